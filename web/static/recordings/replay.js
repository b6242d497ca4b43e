"use strict";
/*
 * The replay page (web/templates/recordings/replay.html): a click on an item, a timeline segment or
 * a mark seeks the replay to the mark's start and plays; ?item=<code> and ?t=<seconds> open there
 * (the server puts the moment in data-start). Each seek is timed from the click to the first frame
 * shown at the new place (requestVideoFrameCallback): window.rc.poll() returns it synchronously for
 * the tests and bench/replay_seek.py. While the replay is queued or rendering, its progress is
 * polled from the API and the page reloads once it is ready.
 */
(() => {
  const root = document.getElementById("replay-page");
  if (!root) return;
  const video = document.getElementById("replay");
  const cursor = document.getElementById("cursor");
  const duration = parseFloat(root.dataset.duration) || 0;
  const state = { lastSeek: null, error: null, status: root.dataset.state, seeks: 0 };

  /* Each segment's place on the timeline (percent of the recording), set here: the page's policy
     allows no style attributes in the markup. */
  for (const seg of document.querySelectorAll("#timeline .seg")) {
    seg.style.left = `${seg.dataset.left}%`;
    seg.style.width = `${seg.dataset.width}%`;
  }

  function highlight(time) {
    for (const li of document.querySelectorAll("li.item")) {
      li.classList.toggle("current", li.dataset.start !== "" && Math.abs(parseFloat(li.dataset.start) - time) < 0.05);
    }
  }

  function seek(target, clickedAt, play) {
    if (!video) return;
    const record = { target, clickedAt, seekedAt: null, seekedTime: null, frameAt: null, frameTime: null };
    state.lastSeek = record;
    state.seeks += 1;
    video.addEventListener("seeked", () => {
      if (state.lastSeek !== record) return;
      record.seekedAt = performance.now();
      record.seekedTime = video.currentTime;
    }, { once: true });
    if ("requestVideoFrameCallback" in video) {
      const watch = (now, meta) => {
        if (state.lastSeek !== record) return;
        if (Math.abs(meta.mediaTime - target) <= 0.25) {
          record.frameAt = meta.expectedDisplayTime || now;
          record.frameTime = meta.mediaTime;
        } else {
          video.requestVideoFrameCallback(watch);
        }
      };
      video.requestVideoFrameCallback(watch);
    }
    video.currentTime = target;
    highlight(target);
    if (play) video.play().catch((error) => { state.error = String(error); });
  }

  function share(query) {
    const url = new URL(location.href);
    url.searchParams.delete("item");
    url.searchParams.delete("t");
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    history.replaceState(null, "", url);
  }

  root.addEventListener("click", (event) => {
    const seekButton = event.target.closest(".item-seek");
    const link = event.target.closest("a.seg, a.mark");
    if (!video || (!seekButton && !link)) return;
    const holder = seekButton ? seekButton.closest("li.item") : link;
    if (holder.dataset.start === "") return;
    event.preventDefault();
    const start = parseFloat(holder.dataset.start);
    seek(start, event.timeStamp, true);
    if (link && link.classList.contains("mark")) share({ t: String(start) });
    else share({ item: holder.dataset.code });
  });

  if (video) {
    video.addEventListener("timeupdate", () => {
      if (cursor && duration > 0) cursor.style.left = `${Math.min(100, (100 * video.currentTime) / duration)}%`;
    });
    const start = root.dataset.start;
    if (start !== "") {
      const go = () => seek(parseFloat(start), performance.now(), false);
      if (video.readyState >= 1) go(); else video.addEventListener("loadedmetadata", go, { once: true });
    }
  }

  const progress = document.getElementById("replay-progress");
  if (progress && (state.status === "queued" || state.status === "rendering")) {
    const timer = setInterval(async () => {
      try {
        const response = await fetch(`/api/sessions/${root.dataset.session}/replay`, { credentials: "same-origin" });
        if (!response.ok) { clearInterval(timer); return; } // no status API: the server's word stands
        const status = await response.json();
        state.status = status.state;
        progress.value = status.progress;
        const percent = document.getElementById("replay-percent");
        if (percent) percent.textContent = `${Math.round(status.progress * 100)}%`;
        if (status.state === "ready" || status.state === "failed") { clearInterval(timer); location.reload(); }
      } catch (error) {
        state.error = String(error);
      }
    }, 2000);
  }

  window.rc = {
    poll() {
      return {
        status: state.status,
        error: state.error,
        seeks: state.seeks,
        lastSeek: state.lastSeek ? { ...state.lastSeek } : null,
        currentTime: video ? video.currentTime : null,
        paused: video ? video.paused : null,
        seeking: video ? video.seeking : null,
        readyState: video ? video.readyState : null,
        duration: video ? video.duration : null,
      };
    },
  };
})();
