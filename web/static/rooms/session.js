"use strict";
/*
 * The room of a check session (web/templates/rooms/room.html): joins at once, as the server
 * decided (log-in or guest link); shows the screen share large and cameras in a strip, who
 * speaks (an AnalyserNode per received audio track), who is muted or has a hand up, and the
 * host's panel. On a lost connection it tries an ICE restart, then rejoins from scratch; the
 * server keeps role, name and mute state.
 */
(() => {
  const root = document.getElementById("room");
  const role = root.dataset.role;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}${root.dataset.socket}?lang=${root.dataset.lang}`;
  const label = {};
  for (const el of document.getElementById("labels").content.querySelectorAll("[data-k]")) {
    label[el.dataset.k] = el.textContent;
  }
  const $ = (id) => document.getElementById(id);
  const state = { phase: "connecting", roster: null, you: null, micOn: true, camOn: true, hand: false,
    sharing: false, error: null, rejoins: 0 };
  /* Cameras show who speaks; the screen share is the evidence and keeps the bandwidth. Above
     LARGE_ROOM people each camera is sent at half size (bench/rooms_forwarding.py measures both). */
  const LARGE_ROOM = 6;
  const CAMERA_PROFILES = {
    normal: { maxBitrate: 600000, maxFramerate: 30, scaleResolutionDownBy: 1 },  // 640x360 at 30 fps
    large: { maxBitrate: 250000, maxFramerate: 30, scaleResolutionDownBy: 2 },   // 320x180 at 30 fps
  };
  let cameraProfile = null;
  const tiles = {};       // mid -> {figure, media}
  const levels = {};      // mid -> {analyser, data}
  let stream = null;
  let client = null;
  let audioContext = null;

  function setStatus(text) { $("status").textContent = text; }

  function person(id) {
    return state.roster ? state.roster.people.find((p) => p.id === id) : null;
  }

  function tile(mid, kind) {
    if (tiles[mid]) return tiles[mid];
    const media = document.createElement(kind);
    media.autoplay = true;
    let figure;
    if (kind === "video") {
      figure = document.createElement("figure");
      figure.className = "room-tile";
      media.muted = true;
      media.playsInline = true;
      figure.append(media, document.createElement("figcaption"));
    } else {
      figure = document.createElement("div");
      figure.append(media);
      $("audios").append(figure);
    }
    figure.dataset.mid = mid;
    tiles[mid] = { figure, media, kind };
    return tiles[mid];
  }

  function place(t, info) {
    if (t.kind !== "video") return;
    const target = info && info.source === "screen" ? $("stage") : $("strip");
    if (t.figure.parentElement !== target) target.append(t.figure);
    t.figure.hidden = !info;
    $("no-screen").hidden = Object.values(client ? client.slotInfo : {}).some((s) => s.source === "screen");
  }

  function listen(mid, track) {
    if (track.kind !== "audio") return;
    try {
      audioContext = audioContext || new AudioContext();
      const source = audioContext.createMediaStreamSource(new MediaStream([track]));
      const analyser = audioContext.createAnalyser();
      analyser.fftSize = 512;
      source.connect(analyser);
      levels[mid] = { analyser, data: new Uint8Array(analyser.fftSize) };
    } catch (error) { console.warn("speaking detection", error); }
  }

  /* Who speaks: the loudness of each received audio track, 5 times a second. */
  function speaking() {
    const loud = new Set();
    for (const [mid, level] of Object.entries(levels)) {
      level.analyser.getByteTimeDomainData(level.data);
      let sum = 0;
      for (const v of level.data) sum += (v - 128) * (v - 128);
      const info = client && client.slotInfo[mid];
      if (info && Math.sqrt(sum / level.data.length) > 4) loud.add(info.participant);
    }
    for (const t of Object.values(tiles)) {
      const info = client && client.slotInfo[t.figure.dataset.mid];
      t.figure.classList.toggle("speaking", Boolean(info && loud.has(info.participant)));
    }
    for (const li of document.querySelectorAll("#people li")) li.classList.toggle("speaking", loud.has(li.dataset.id));
  }
  setInterval(speaking, 200);

  function caption(info) {
    const p = person(info.participant);
    const tags = [];
    if (p && p.muted) tags.push(label.muted);
    if (p && p.hand_up) tags.push(label.handup);
    const what = info.source === "screen" ? ` · ${label.screen}` : "";
    return `${info.name}${what}${tags.length ? " · " + tags.join(" · ") : ""}`;
  }

  function refreshCaptions() {
    if (!client) return;
    for (const [mid, t] of Object.entries(tiles)) {
      const info = client.slotInfo[mid];
      const cap = t.figure.querySelector("figcaption");
      if (cap && info) cap.textContent = caption(info);
    }
  }

  function button(text, action, target) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    b.dataset.action = action;
    b.onclick = () => moderate(action, target);
    return b;
  }

  async function fitCamera(roster, tries = 20) {
    const present = roster.people.filter((p) => p.admitted !== false && p.connected !== false).length;
    const wanted = present > LARGE_ROOM ? "large" : "normal";
    if (!client || wanted === cameraProfile || roster !== state.roster) return;
    if (await client.limit("camera", CAMERA_PROFILES[wanted])) {
      cameraProfile = wanted;
    } else if (tries > 0) {  // not negotiated yet: the sender has no encodings to limit
      setTimeout(() => fitCamera(roster, tries - 1), 500);
    }
  }

  function renderRoster(roster) {
    state.roster = roster;
    fitCamera(roster);
    state.you = roster.you;
    const me = person(roster.you);
    renderRecording(roster);
    renderGuestEntry(roster);
    const list = $("people");
    list.replaceChildren();
    const waitingList = $("waiting-list");
    if (waitingList) waitingList.replaceChildren();
    let present = 0;
    for (const p of roster.people) {
      const li = document.createElement("li");
      li.dataset.id = p.id;
      const tags = [label[p.role]];
      if (p.muted) tags.push(label.muted);
      if (p.hand_up) tags.push(label.handup);
      if (p.has_floor) tags.push(label.floor);
      if (p.sharing_screen) tags.push(label.screen);
      if (!p.connected) tags.push(label.away);
      li.className = p.connected ? "" : "away";
      li.append(document.createTextNode(p.name));
      const span = document.createElement("span");
      span.className = "tags";
      span.textContent = tags.join(" · ");
      li.append(span);
      if (role === "host" && p.id !== roster.you) {
        const controls = document.createElement("div");
        if (!p.admitted) controls.append(button(label.admit, "admit", p.id));
        else {
          controls.append(button(label.mute1, "mute", p.id));
          controls.append(button(p.has_floor ? label.take : label.give, p.has_floor ? "take_floor" : "give_floor", p.id));
        }
        controls.append(button(label.remove, "remove", p.id));
        li.append(controls);
      }
      if (!p.admitted && waitingList) waitingList.append(li);
      else if (p.admitted) list.append(li);
      if (p.connected) present += 1;
    }
    $("count").textContent = `${present}/${roster.capacity}`;
    if (me) {
      state.hand = me.hand_up;
      $("hand").textContent = me.hand_up ? label.unhand : label.hand;
      if (me.muted !== !state.micOn) setMic(!me.muted, false);
    }
    refreshCaptions();
  }

  /* The red indicator is shown only while frames are being recorded; the host's buttons follow
     the recording's state (off, on, paused). */
  const REC = {
    on: ["● 录制中", "● Recording"],
    start: ["开始录制", "Start recording"], pause: ["暂停录制", "Pause recording"],
    resume: ["继续录制", "Resume recording"], stop: ["停止录制", "Stop recording"],
  };
  const say = (pair) => (root.dataset.lang !== "en" ? pair[0] : pair[1]);
  function renderRecording(roster) {
    const rec = $("recording");
    rec.dataset.recording = String(roster.recording);
    rec.textContent = say(REC.on);
    rec.hidden = !roster.recording;
    const panel = $("host-panel");
    if (!panel) return;
    let box = $("recording-controls");
    if (!box) {
      box = document.createElement("div");
      box.id = "recording-controls";
      panel.append(box);
    }
    const steps = { off: ["start"], on: ["pause", "stop"], paused: ["resume", "stop"] }[roster.recording_state || "off"];
    box.replaceChildren(...steps.map((step) => {
      const b = button(say(REC[step]), `record_${step}`, "");
      b.className = step === "start" ? "" : "secondary";
      return b;
    }));
  }

  /* The host's switch: guests wait in the waiting room, or enter without waiting. */
  function renderGuestEntry(roster) {
    const entry = $("guest-entry");
    if (!entry) return;
    const open = Boolean(roster.open_to_guests);
    entry.dataset.open = String(open);
    entry.textContent = open ? label["guests-enter"] : label["guests-wait"];
    const toggle = $("open-to-guests");
    toggle.textContent = open ? label["close-guests"] : label["open-guests"];
    toggle.dataset.action = open ? "close_to_guests" : "open_to_guests";
  }

  function notice(message) {
    let banner = $("room-notice");
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "room-notice";
      banner.className = "room-notice";
      banner.setAttribute("role", "alert");
      root.prepend(banner);
    }
    banner.textContent = message.message;
    banner.hidden = false;
  }

  function setMic(on, tell = true) {
    state.micOn = on;
    if (stream) for (const t of stream.getAudioTracks()) t.enabled = on;
    $("mic").textContent = on ? label.mute : label.unmute;
    $("mic").setAttribute("aria-pressed", String(!on));
    if (tell && client) client.send({ type: "self_mute", muted: !on });
  }

  function moderate(action, target = "") {
    if (client) client.send({ type: "moderate", action, target });
  }

  function ended(message) {
    state.phase = message.type;
    $("ended").textContent = message.message;
    $("ended").hidden = false;
    if (stream) for (const t of stream.getTracks()) t.stop();
  }

  function connect() {
    const mine = new RoomClient(url, {
      named: false,
      onStatus: (text) => {
        if (mine !== client) return;
        if (text === "failed" || text === "disconnected") recover(mine);
        else if (text === "closed" && ["joined", "waiting"].includes(state.phase)) recover(mine, true);
        else if (text === "connected") setStatus(label.connected);
      },
      onWaiting: () => { state.phase = "waiting"; $("waiting").hidden = false; },
      onAdmitted: () => { $("waiting").hidden = true; },
      onRoster: (roster) => { if (mine === client) renderRoster(roster); },
      onEnded: (message) => { if (mine === client) ended(message); },
      onNotice: (message) => { if (mine === client) notice(message); },
      onError: (message) => {
        state.error = message;
        setStatus(message.message);
        if (message.code === "muted_by_host") setMic(false, false);  // the server still drops it
      },
      onSlot: (mid, remote, info) => {
        if (mine !== client || !remote) return;
        const t = tile(mid, remote.kind);
        if (t.media.srcObject === null || t.media.srcObject.getTracks()[0] !== remote.track) {
          t.media.srcObject = new MediaStream([remote.track]);
          listen(mid, remote.track);
          // without a click on this page the browser may refuse to play sound: offer a button
          t.media.play().catch(() => { $("sound").hidden = false; });
        }
        place(t, info);
        refreshCaptions();
      },
    });
    client = mine;
    window.rc.client = mine;
    return mine.join("", stream).then(() => {
      state.phase = "joined";
      for (const id of ["share", "hand"]) $(id).disabled = false;
      $("waiting").hidden = true;
      if (!state.micOn) mine.send({ type: "self_mute", muted: true });
    }, (error) => {
      if (!["removed", "replaced"].includes(state.phase)) { state.phase = "refused"; setStatus(String(error.message || error)); }
    });
  }

  /* ICE restart first (the server restarts its ICE agent in place: same call, new path); if the
     connection is not back within 4 s (or the socket is gone), rejoin. */
  let recovering = false;
  async function recover(which, socketGone = false) {
    if (recovering || which !== client || !["joined"].includes(state.phase) && !socketGone) return;
    recovering = true;
    setStatus(label.reconnecting);
    try {
      if (!socketGone) {
        try { await which.restartIce(); } catch (error) { console.warn("ICE restart", error); }
        const deadline = Date.now() + 4000;
        while (Date.now() < deadline && which.pc.connectionState !== "connected") {
          await new Promise((r) => setTimeout(r, 250));
        }
        if (which.pc.connectionState === "connected") return;
      }
      for (const t of Object.values(tiles)) t.figure.remove();
      for (const k of Object.keys(tiles)) delete tiles[k];
      for (const k of Object.keys(levels)) delete levels[k];
      which.abandon();
      cameraProfile = null;  // a new connection: its camera is limited again
      state.rejoins += 1;
      await connect();
    } finally { recovering = false; }
  }

  async function start() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true },
        video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30, max: 30 } },
      });
    } catch (error) {
      setStatus(String(error));
      stream = new MediaStream();
    }
    $("local").srcObject = stream;
    await connect();
  }

  for (const id of ["share", "hand"]) $(id).disabled = true;  // until admitted
  $("mic").onclick = () => setMic(!state.micOn);
  $("sound").onclick = () => {
    $("sound").hidden = true;
    if (audioContext) audioContext.resume();
    for (const t of Object.values(tiles)) t.media.play().catch(() => {});
  };
  document.addEventListener("click", () => { if (audioContext) audioContext.resume(); });
  $("cam").onclick = () => {
    state.camOn = !state.camOn;
    if (stream) for (const t of stream.getVideoTracks()) t.enabled = state.camOn;
    $("cam").textContent = state.camOn ? label.camoff : label.camon;
    $("cam").setAttribute("aria-pressed", String(!state.camOn));
  };
  $("share").onclick = async () => {
    if (state.sharing) { await client.stopScreen(); } else { await client.shareScreen(); }
    state.sharing = client.publications.some((p) => p.source === "screen" && p.active);
    $("share").textContent = state.sharing ? label.unshare : label.share;
  };
  $("hand").onclick = () => client && client.send({ type: "hand", up: !state.hand });
  $("leave").onclick = () => {
    state.phase = "left";
    client.leave();
    $("ended").textContent = label.left;
    $("ended").hidden = false;
  };
  if ($("mute-all")) {
    $("mute-all").onclick = () => moderate("mute_all");
    $("unlock").onclick = () => moderate("unlock");
    $("open-to-guests").onclick = () => moderate($("open-to-guests").dataset.action || "open_to_guests");
  }

  let latest = null;
  let refreshing = null;
  /* The last statistics gathered, starting a new gathering (a synchronous read for tests). */
  function poll() {
    if (refreshing === null && client && client.pc !== null) {
      refreshing = client.stats().then((s) => { latest = s; }).finally(() => { refreshing = null; });
    }
    return latest;
  }

  window.rc = {
    client: null,
    state,
    poll,
    stats: () => client.stats(),
    moderate,
    setMic,
    shareScreen: () => client.shareScreen(),
    stopScreen: () => client.stopScreen(),
    leave: () => $("leave").onclick(),
    recover: () => recover(client),
    person,
  };
  start();
})();
