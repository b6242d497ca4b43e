"use strict";
/*
 * The connectivity test: permissions for screen, camera and microphone, then a round trip of
 * the camera and microphone through the server's echo peer (web/rooms/echo.py), measured with
 * getStats, and the figures posted to the server, which gives the verdict.
 */
(() => {
  const root = document.getElementById("check");
  const base = root.dataset.base;
  const rtc = JSON.parse(root.dataset.rtc);  // iceServers, iceTransportPolicy, bundlePolicy
  const texts = {};
  document.getElementById("texts").content.querySelectorAll("[data-key]")
    .forEach((el) => { texts[el.dataset.key] = el.textContent; });
  const WARMUP_MS = 15000;   // time allowed for the first echoed frame
  const MEASURE_MS = 5000;   // figures are taken over this window
  const state = { running: false, done: false, measured: null, saved: null, error: null };

  function mark(id, ok, text) {
    const el = document.getElementById(id);
    el.dataset.state = ok ? "ok" : "fail";
    el.textContent = text || (ok ? texts.ok : texts.denied);
  }

  function show(id, text) { document.getElementById(id).textContent = text; }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function screenAllowed() {
    try {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const ok = screen.getVideoTracks().length > 0;
      screen.getTracks().forEach((t) => t.stop());
      return ok;
    } catch (error) {
      console.warn("screen", error);
      return false;
    }
  }

  async function track(constraints, kind) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      return stream.getTracks().find((t) => t.kind === kind) || null;
    } catch (error) {
      console.warn(kind, error);
      return null;
    }
  }

  function prefer(transceiver, kind) {
    const wanted = kind === "video" ? ["video/vp8", "video/rtx"] : ["audio/opus"];
    const codecs = RTCRtpReceiver.getCapabilities(kind).codecs
      .filter((codec) => wanted.includes(codec.mimeType.toLowerCase()));
    try { transceiver.setCodecPreferences(codecs); } catch (error) { console.warn("codecs", error); }
  }

  async function gathered(pc, timeoutMs) {
    if (pc.iceGatheringState === "complete") return;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  function signal(ws, message) {
    return new Promise((resolve, reject) => {
      ws.onmessage = (event) => {
        const reply = JSON.parse(event.data);
        if (reply.type === "answer") resolve(reply.sdp);
        else reject(new Error(reply.message || "signalling"));
      };
      ws.onclose = () => reject(new Error("closed"));
      ws.send(JSON.stringify(message));
    });
  }

  /* Counters of what comes back: decoded video frames, bytes of every inbound stream, the delay. */
  async function snapshot(pc) {
    const report = await pc.getStats();
    const out = { time: performance.now(), frames: 0, bytes: 0, rtt: null };
    let selected = null;
    report.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) selected = s.selectedCandidatePairId;
    });
    report.forEach((s) => {
      if (s.type === "inbound-rtp") {
        out.bytes += s.bytesReceived || 0;
        if (s.kind === "video") out.frames += s.framesDecoded || 0;
      } else if (s.type === "candidate-pair" && typeof s.currentRoundTripTime === "number"
                 && (s.id === selected || (selected === null && s.nominated))) {
        out.rtt = Math.round(s.currentRoundTripTime * 1000);
      }
    });
    if (out.rtt === null) {
      report.forEach((s) => {
        if (s.type === "remote-inbound-rtp" && typeof s.roundTripTime === "number") {
          out.rtt = Math.round(s.roundTripTime * 1000);
        }
      });
    }
    return out;
  }

  async function roundTrip(tracks) {
    const pc = new RTCPeerConnection(rtc);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${base}/ws`);
    try {
      const stream = new MediaStream(tracks);
      for (const t of tracks) prefer(pc.addTransceiver(t, { direction: "sendonly", streams: [stream] }), t.kind);
      for (const kind of ["audio", "video"]) prefer(pc.addTransceiver(kind, { direction: "recvonly" }), kind);
      pc.ontrack = (event) => {
        if (event.track.kind === "video") document.getElementById("echo").srcObject = new MediaStream([event.track]);
      };
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error("WebSocket")); });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 3000);
      const sdp = await signal(ws, { type: "offer", sdp: pc.localDescription.sdp });
      await pc.setRemoteDescription({ type: "answer", sdp });
      const started = performance.now();
      let first = await snapshot(pc);
      while (first.bytes === 0 || (tracks.some((t) => t.kind === "video") && first.frames === 0)) {
        if (performance.now() - started > WARMUP_MS) throw new Error("no media came back");
        await sleep(250);
        first = await snapshot(pc);
      }
      await sleep(MEASURE_MS);
      const last = await snapshot(pc);
      const seconds = (last.time - first.time) / 1000;
      return {
        fps: Math.round(((last.frames - first.frames) / seconds) * 10) / 10,
        bitrate_kbps: Math.round(((last.bytes - first.bytes) * 8) / seconds / 1000),
        rtt_ms: last.rtt,
      };
    } finally {
      ws.close();
      pc.close();
    }
  }

  async function save(measured) {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const headers = { "Content-Type": "application/json" };
    if (token) headers["X-CSRF-Token"] = token;
    const response = await fetch(`${base}/result`, { method: "POST", headers, body: JSON.stringify(measured) });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : String(response.status));
    return body;
  }

  function verdict(saved) {
    const el = document.getElementById("verdict");
    el.hidden = false;
    el.dataset.passed = saved.passed ? "true" : "false";
    el.className = saved.passed ? "notice" : "alert";
    el.textContent = saved.passed ? texts.passed : texts.notpassed + saved.problems.join("；");
  }

  async function run() {
    if (state.running) return state;
    Object.assign(state, { running: true, done: false, measured: null, saved: null, error: null });
    document.getElementById("start").disabled = true;
    try {
      // the screen first: browsers allow it only right after the click
      const screenOk = await screenAllowed();
      mark("screen", screenOk);
      const camera = await track({ video: { width: 640, height: 480 } }, "video");
      mark("camera", camera !== null);
      const microphone = await track({ audio: true }, "audio");
      mark("microphone", microphone !== null);
      const tracks = [camera, microphone].filter((t) => t !== null);
      document.getElementById("local").srcObject = new MediaStream(tracks);
      let figures = { fps: 0, bitrate_kbps: 0, rtt_ms: null };
      if (tracks.length > 0) {
        show("roundtrip", texts.running);
        try {
          figures = await roundTrip(tracks);
          mark("roundtrip", true);
        } catch (error) {
          console.warn("round trip", error);
          mark("roundtrip", false, texts.failed);
        }
      }
      tracks.forEach((t) => t.stop());
      show("fps", `${figures.fps} fps`);
      show("bitrate", `${figures.bitrate_kbps} kbps`);
      show("rtt", figures.rtt_ms === null ? "–" : `${figures.rtt_ms} ms`);
      state.measured = {
        camera_ok: camera !== null, microphone_ok: microphone !== null, screen_ok: screenOk,
        ...figures, user_agent: navigator.userAgent.slice(0, 1000),
      };
      state.saved = await save(state.measured);
      verdict(state.saved);
    } catch (error) {
      state.error = String(error.message || error);
      const el = document.getElementById("verdict");
      el.hidden = false;
      el.className = "alert";
      el.textContent = texts.saveerror + state.error;
    } finally {
      state.running = false;
      state.done = true;
      document.getElementById("start").disabled = false;
    }
    return state;
  }

  document.getElementById("start").addEventListener("click", () => { run(); });
  window.connectivity = { run, state };
})();
