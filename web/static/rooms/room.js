"use strict";
/*
 * RoomClient: one browser in a room hosted by the server (protocol: web/rooms/protocol.py).
 *
 * The browser makes every offer; ICE is not trickled (an offer is sent once candidates are
 * gathered). Sending m-lines carry camera, microphone and screen; receiving m-lines ("slots")
 * carry whatever the server assigns to them, announced by "slot" messages.
 */
class RoomClient {
  constructor(url, handlers = {}) {
    this.url = url;
    this.handlers = handlers;
    this.id = null;
    this.participants = [];
    this.publications = [];   // {source, transceiver, track, active}
    this.slotInfo = {};       // mid -> {participant, name, source}
    this.remote = {};         // mid -> {kind, track}
    this.chain = Promise.resolve();
    this.pendingAnswer = null;
    this.pc = null;
    this.ws = null;
    this.named = handlers.named !== false;  // false: the server knows who we are (a session room)
    this.abandoned = false;
  }

  /* Join under `name`, publishing the tracks of `stream` (camera and microphone). */
  async join(name, stream) {
    this.stream = stream;
    this.ws = new WebSocket(this.url);
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error("WebSocket failed"));
    });
    const joined = new Promise((resolve, reject) => { this.pendingJoin = { resolve, reject }; });
    this.ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    this.ws.onclose = (event) => {
      // 1008: closed for sending too many messages; rejoining would not help
      this.status(event.code === 1008 ? "ended" : "closed");
      if (this.pendingJoin && this.id === null) this.pendingJoin.reject(new Error("closed"));
    };
    if (this.named) this.send({ type: "join", name });
    const welcome = await joined;
    this.id = welcome.id;
    this.pc = new RTCPeerConnection(welcome.rtc);
    this.pc.ontrack = (event) => this.onTrack(event);
    this.pc.onconnectionstatechange = () => this.status(this.pc.connectionState);
    for (const track of stream.getTracks()) {
      this.addPublication(track, track.kind === "video" ? "camera" : "microphone");
    }
    this.ensureSlots(welcome.slots);
    await this.enqueue(() => this.negotiate());
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  status(text) {
    if (this.handlers.onStatus && !this.abandoned) this.handlers.onStatus(text);
  }

  enqueue(task) {
    const run = this.chain.then(task);
    this.chain = run.catch((error) => this.status(String(error)));
    return run;
  }

  receive(message) {
    switch (message.type) {
      case "joined":
        this.pendingJoin.resolve(message);
        break;
      case "answer":
        if (this.pendingAnswer) this.pendingAnswer.resolve(message);
        break;
      case "participants":
        this.participants = message.participants;
        if (this.handlers.onParticipants) this.handlers.onParticipants(this.participants);
        break;
      case "slot":
        if (message.participant === null) delete this.slotInfo[message.mid];
        else this.slotInfo[message.mid] = message;
        this.changed(message.mid);
        break;
      case "slots":
        this.enqueue(async () => { if (this.ensureSlots(message)) await this.negotiate(); });
        break;
      case "waiting":
      case "admitted":
        this.call(message.type === "waiting" ? "onWaiting" : "onAdmitted", message);
        break;
      case "roster":
        this.roster = message;
        this.call("onRoster", message);
        break;
      case "notice":
        this.call("onNotice", message);
        break;
      case "removed":
      case "replaced":
        this.ended = message;
        this.call("onEnded", message);
        if (this.pendingJoin && this.id === null) this.pendingJoin.reject(new Error(message.message));
        break;
      case "error":
        this.call("onError", message);
        this.status(message.message);
        if (this.pendingAnswer && !this.refusedOther(message, "offer")) this.pendingAnswer.reject(new Error(message.message));
        else if (this.pendingJoin && this.id === null) this.pendingJoin.reject(new Error(message.message));
        break;
    }
  }

  /* Whether an error refused a message of another kind than `kind` (a rate limit names it). */
  refusedOther(error, kind) {
    const refused = (error.fields || []).find((f) => f.field === "type" && f.value);
    return error.code === "rate_limited" && Boolean(refused) && refused.value !== kind;
  }

  call(handler, message) {
    if (this.handlers[handler] && !this.abandoned) this.handlers[handler](message);
  }

  preferCodecs(transceiver, kind) {
    const wanted = kind === "video" ? ["video/vp8", "video/rtx"] : ["audio/opus"];
    const codecs = RTCRtpReceiver.getCapabilities(kind).codecs
      .filter((codec) => wanted.includes(codec.mimeType.toLowerCase()));
    try { transceiver.setCodecPreferences(codecs); } catch (error) { console.warn("codec preferences", error); }
  }

  /* Limit what a published source sends (bitrate, frame rate, down-scaling; see CAMERA_PROFILES in
     session.js); the browser's encoder follows without renegotiation. */
  async limit(source, encoding, degradation) {
    const publication = this.publications.find((p) => p.source === source && p.active);
    if (!publication) return false;
    const sender = publication.transceiver.sender;
    const parameters = sender.getParameters();
    if (!parameters.encodings || !parameters.encodings.length) return false;
    parameters.encodings[0] = { ...parameters.encodings[0], ...encoding };
    if (degradation) parameters.degradationPreference = degradation;
    try { await sender.setParameters(parameters); return true; } catch (error) {
      console.warn("sender parameters", error);
      return false;
    }
  }

  addPublication(track, source) {
    const transceiver = this.pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
    this.preferCodecs(transceiver, track.kind);
    this.publications.push({ source, transceiver, track, active: true });
  }

  /* Have at least `wanted.audio` / `wanted.video` receiving m-lines; true when some were added. */
  ensureSlots(wanted) {
    let added = false;
    for (const kind of ["audio", "video"]) {
      const have = this.pc.getTransceivers()
        .filter((t) => t.receiver.track.kind === kind && t.direction === "recvonly").length;
      for (let i = have; i < (wanted[kind] || 0); i++) {
        this.preferCodecs(this.pc.addTransceiver(kind, { direction: "recvonly" }), kind);
        added = true;
      }
    }
    return added;
  }

  async gathered(timeoutMs) {
    if (this.pc.iceGatheringState === "complete") return;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.pc.addEventListener("icegatheringstatechange", () => {
        if (this.pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  async negotiate(options = {}) {
    const offer = await this.pc.createOffer(options);
    await this.pc.setLocalDescription(offer);
    await this.gathered(3000);
    const tracks = {};
    for (const p of this.publications) {
      if (p.active && p.transceiver.mid !== null) tracks[p.transceiver.mid] = p.source;
    }
    const answered = new Promise((resolve, reject) => { this.pendingAnswer = { resolve, reject }; });
    this.send({ type: "offer", sdp: this.pc.localDescription.sdp, tracks });
    try {
      const answer = await answered;
      await this.pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    } finally {
      this.pendingAnswer = null;
    }
  }

  onTrack(event) {
    const mid = event.transceiver.mid;
    this.remote[mid] = { kind: event.track.kind, track: event.track };
    this.changed(mid);
  }

  changed(mid) {
    if (this.handlers.onSlot) this.handlers.onSlot(mid, this.remote[mid], this.slotInfo[mid]);
  }

  /* A new offer with fresh ICE credentials, after the connection failed or was lost. */
  async restartIce() {
    await this.enqueue(() => this.negotiate({ iceRestart: true }));
  }

  /* Drop this connection without leaving the room (a rejoin replaces it on the server). */
  abandon() {
    this.abandoned = true;
    if (this.ws) this.ws.close();
    if (this.pc) this.pc.close();
  }

  /* Publish a screen (getDisplayMedia): sharp rather than fluid (it is the evidence), up to
     1920x1080 at 15 fps; stopping it in the browser's bar unpublishes it. */
  async shareScreen() {
    const screen = await navigator.mediaDevices.getDisplayMedia({
      video: { width: { max: 1920 }, height: { max: 1080 }, frameRate: { ideal: 15, max: 15 } },
      audio: false,
    });
    const track = screen.getVideoTracks()[0];
    if ("contentHint" in track) track.contentHint = "detail";
    track.onended = () => this.stopScreen();
    await this.enqueue(async () => {
      const idle = this.publications.find((p) => p.source === "screen" && !p.active);
      if (idle) {
        idle.transceiver.direction = "sendonly";
        await idle.transceiver.sender.replaceTrack(track);
        Object.assign(idle, { track, active: true });
      } else {
        this.addPublication(track, "screen");
      }
      await this.negotiate();
      // the screen is the evidence: keep its resolution, give it the bitrate
      await this.limit("screen", { maxBitrate: 2500000, maxFramerate: 15 }, "maintain-resolution");
    });
  }

  async stopScreen() {
    await this.enqueue(async () => {
      const active = this.publications.find((p) => p.source === "screen" && p.active);
      if (!active) return;
      active.transceiver.direction = "inactive";
      await active.transceiver.sender.replaceTrack(null);
      active.track.stop();
      active.active = false;
      await this.negotiate();
    });
  }

  /* Statistics per receiving slot and per published track, for display and for tests. */
  async stats() {
    const report = await this.pc.getStats();
    const midOfTrack = {};
    for (const t of this.pc.getTransceivers()) if (t.mid !== null) midOfTrack[t.receiver.track.id] = t.mid;
    const inbound = {};
    const outbound = [];
    report.forEach((s) => {
      if (s.type === "inbound-rtp") {
        inbound[s.mid || midOfTrack[s.trackIdentifier]] = {
          kind: s.kind, packetsReceived: s.packetsReceived || 0, framesDecoded: s.framesDecoded || 0,
          framesReceived: s.framesReceived || 0,
          framesPerSecond: s.framesPerSecond || 0, frameWidth: s.frameWidth || 0,
          frameHeight: s.frameHeight || 0, timestamp: s.timestamp,
        };
      } else if (s.type === "outbound-rtp") {
        outbound.push({ kind: s.kind, mid: s.mid, framesEncoded: s.framesEncoded || 0,
          framesSent: s.framesSent || 0, framesPerSecond: s.framesPerSecond || 0,
          packetsSent: s.packetsSent || 0, timestamp: s.timestamp });
      }
    });
    const slots = Object.entries(this.slotInfo).map(([mid, info]) => ({
      mid, participant: info.participant, name: info.name, source: info.source,
      ...(inbound[mid] || { packetsReceived: 0, framesDecoded: 0, framesPerSecond: 0 }),
    }));
    return { id: this.id, connectionState: this.pc.connectionState, participants: this.participants, slots, outbound };
  }

  async leave() {
    this.abandoned = true;
    this.send({ type: "leave" });
    if (this.ws) this.ws.close();
    if (this.pc) this.pc.close();
    for (const p of this.publications) if (p.track) p.track.stop();
  }
}
window.RoomClient = RoomClient;
