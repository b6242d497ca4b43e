"use strict";
/* The development room page: join with camera and microphone, show the others. */
(() => {
  const form = document.getElementById("join");
  const room = form.dataset.room;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const tiles = {};

  function tile(mid, kind) {
    if (!tiles[mid]) {
      const figure = document.createElement(kind === "video" ? "figure" : "div");
      const media = document.createElement(kind);
      media.autoplay = true;
      if (kind === "video") {
        figure.className = "room-tile";
        media.muted = true;
        media.playsInline = true;
        figure.append(media, document.createElement("figcaption"));
        document.getElementById("videos").append(figure);
      } else {
        figure.append(media);
        document.getElementById("audios").append(figure);
      }
      figure.dataset.mid = mid;
      tiles[mid] = { figure, media };
    }
    return tiles[mid];
  }

  const client = new RoomClient(`${scheme}://${location.host}/rooms/${room}/ws`, {
    onStatus: (text) => { document.getElementById("status").textContent = text; },
    onParticipants: (people) => {
      document.getElementById("people").textContent = people.map((p) => p.name).join(" · ");
    },
    onSlot: (mid, remote, info) => {
      if (!remote) return;
      const t = tile(mid, remote.kind);
      if (t.media.srcObject === null || t.media.srcObject.getTracks()[0] !== remote.track) {
        t.media.srcObject = new MediaStream([remote.track]);
      }
      t.figure.hidden = !info;
      const caption = t.figure.querySelector("figcaption");
      if (caption && info) caption.textContent = `${info.name} · ${info.source}`;
    },
  });

  async function join(name) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    document.getElementById("local").srcObject = stream;
    await client.join(name, stream);
    for (const id of ["share", "unshare", "leave"]) document.getElementById(id).disabled = false;
    return client.id;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    join(new FormData(form).get("name"));
  });
  document.getElementById("share").onclick = () => client.shareScreen();
  document.getElementById("unshare").onclick = () => client.stopScreen();
  document.getElementById("leave").onclick = () => client.leave();

  let latest = null;
  let refreshing = null;
  /* The last statistics gathered, starting a new gathering if none is under way: a synchronous
     read for conditions polled from outside (Playwright's wait_for_function awaits no promise). */
  function poll() {
    if (refreshing === null && client.pc !== null) {
      refreshing = client.stats().then((s) => { latest = s; }).finally(() => { refreshing = null; });
    }
    return latest;
  }

  window.rc = {
    client,
    join,
    poll,
    stats: () => client.stats(),
    shareScreen: () => client.shareScreen(),
    stopScreen: () => client.stopScreen(),
    leave: () => client.leave(),
  };
})();
