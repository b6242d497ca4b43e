"use strict";
/*
 * The checklist beside the video, for the experts of the session's panel (room.html, when
 * "marking"): items grouped by standard; Start / End say when the enterprise shows an item (the
 * server stamps both on the recording's clock), a result and a note are saved on the project's
 * checklist, and Still keeps a picture of the screen share as evidence. The server's messages
 * (already in the user's language) are shown as they come.
 */
(() => {
  const root = document.getElementById("checklist");
  if (!root) return;
  const session = root.dataset.session;
  const project = root.dataset.project;
  const lang = document.getElementById("room").dataset.lang;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const label = {};
  for (const el of document.getElementById("labels").content.querySelectorAll("[data-k]")) {
    label[el.dataset.k] = el.textContent;
  }
  const state = { ready: false, items: [], marks: [], stills: [], error: null, busy: 0 };
  const $ = (id) => document.getElementById(id);

  function say(text, isError = false) {
    $("checklist-status").textContent = text;
    $("checklist-status").classList.toggle("error", isError);
    state.error = isError ? text : null;
  }

  async function call(method, path, body) {
    state.busy += 1;
    try {
      const response = await fetch(path, {
        method,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token, "Accept-Language": lang },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
      return data;
    } finally {
      state.busy -= 1;
    }
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const two = (n) => String(n).padStart(2, "0");
    return `${two(Math.floor(s / 60))}:${two(s % 60)}`;
  }

  function openMark(code) {
    return state.marks.find((m) => m.item === code && m.end === null);
  }

  function render() {
    const box = $("checklist-items");
    box.replaceChildren();
    for (const standard of ["implementation", "finance", "function"]) {
      const items = state.items.filter((i) => i.standard === standard);
      if (!items.length) continue;
      const heading = document.createElement("h3");
      heading.textContent = label[`std-${standard}`];
      box.append(heading);
      for (const item of items) box.append(renderItem(item));
    }
  }

  function button(text, onClick, cls = "secondary") {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function renderItem(item) {
    const el = document.createElement("div");
    const showing = openMark(item.code);
    el.className = "rc-item" + (showing ? " showing" : "");
    el.dataset.code = item.code;
    const title = document.createElement("div");
    title.className = "rc-title";
    title.textContent = `${item.code} ${lang === "en" ? item.title_en : item.title_zh}`;
    const ranges = document.createElement("div");
    ranges.className = "rc-ranges";
    const mine = state.marks.filter((m) => m.item === item.code)
      .map((m) => m.end === null ? `${clock(m.start)}– ${label.showing}` : `${clock(m.start)}–${clock(m.end)}`);
    const stills = state.stills.filter((s) => s.item === item.code).length;
    ranges.textContent = mine.join(", ") + (stills ? ` · ${stills} ${label.stills}` : "");
    const controls = document.createElement("div");
    controls.className = "rc-row";
    controls.append(
      button(showing ? label["mark-end"] : label["mark-start"],
        () => mark(item.code, showing ? "end" : "start"), showing ? "danger" : ""),
      button(label.still, () => still(item.code)),
    );
    const result = document.createElement("select");
    for (const value of ["pending", "pass", "fail", "na"]) {
      const option = new Option(label[value], value, false, item.result === value);
      result.append(option);
    }
    const note = document.createElement("textarea");
    note.placeholder = label.note;
    note.value = item.notes;
    const save = button(label.save, () => saveItem(item.code, result.value, note.value));
    const verdict = document.createElement("div");
    verdict.className = "rc-row";
    verdict.append(result, save);
    el.append(title, ranges, controls, verdict, note);
    return el;
  }

  async function refresh() {
    const [checklist, evidence] = await Promise.all([
      call("GET", `/api/projects/${project}/checklist`),
      call("GET", `/api/sessions/${session}/marks`),
    ]);
    state.items = checklist.items;
    state.marks = evidence.marks;
    state.stills = evidence.stills;
    render();
  }

  async function mark(code, edge) {
    try {
      const made = await call("POST", `/api/sessions/${session}/marks`, { item: code, edge });
      state.marks = state.marks.filter((m) => m.id !== made.id).concat([made]);
      say(`${code} ${label.marked} ${clock(edge === "start" ? made.start : made.end)}`);
      render();
    } catch (error) {
      say(error.message, true);
    }
  }

  async function still(code) {
    try {
      const taken = await call("POST", `/api/sessions/${session}/stills`, { item: code });
      state.stills.push(taken);
      say(`${code} ${label["still-taken"]} ${clock(taken.at)}`);
      render();
    } catch (error) {
      say(error.message, true);
    }
  }

  async function saveItem(code, result, notes) {
    try {
      const body = { notes };
      if (result !== "pending") body.result = result;
      const saved = await call("PATCH", `/api/projects/${project}/checklist/${code}`, body);
      state.items = state.items.map((i) => (i.code === code ? saved : i));
      say(`${code} ${label.saved}`);
      render();
    } catch (error) {
      say(error.message, true);
    }
  }

  window.rcChecklist = {
    state,
    mark,
    still,
    saveItem,
    poll: () => ({ ready: state.ready, busy: state.busy, error: state.error, marks: state.marks,
      stills: state.stills, items: state.items.map((i) => ({ code: i.code, result: i.result, notes: i.notes })) }),
  };
  refresh().then(() => { state.ready = true; }).catch((error) => say(error.message, true));
})();
