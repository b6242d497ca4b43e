// The city calendar (/calendar): the week becomes a time grid, each day split into the city's rooms,
// and a booked check can be dragged to another time or day. Dropping calls the move API (the
// booking rules decide): on success the block stays and the page says so; on a refusal (409) the
// block goes back where it was and the page shows the clashes and offers the suggested times as
// buttons (pressing one moves the check there); a time outside working hours asks to be confirmed.
// Each block's "改期" link (its form) stays for the keyboard and without this script.
"use strict";
(() => {
  const grid = document.getElementById("calendar");
  if (!grid) return;
  const first = Number(grid.dataset.first);
  const last = Number(grid.dataset.last);
  const ppm = Number(grid.dataset.pxPerMinute);
  const rooms = Math.max(1, Number(grid.dataset.rooms) || 1);
  const movable = grid.dataset.movable === "1";
  const STEP = 15; // minutes: a drop lands on the quarter hour
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";
  const $ = (id) => document.getElementById(id);
  const word = {};
  for (const el of $("move-words").content.querySelectorAll("[data-k]")) word[el.dataset.k] = el.textContent;
  const days = new Map([...grid.querySelectorAll(".day")].map((d) => [d.dataset.day, d]));
  let busy = false;

  const two = (n) => String(n).padStart(2, "0");
  const hhmm = (minute) => `${two(Math.floor(minute / 60))}:${two(minute % 60)}`;
  const iso = (day, minute) => `${day}T${hhmm(minute)}:00+08:00`; // China time (no daylight saving)

  function place(block) {
    const start = Number(block.dataset.start);
    const length = Number(block.dataset.length);
    const room = Math.min(Number(block.dataset.room) || 0, rooms - 1);
    block.style.top = `${(start - first) * ppm}px`;
    block.style.height = `${Math.max(length * ppm, 14)}px`;
    block.style.left = `${(room / rooms) * 100}%`;
    block.style.width = `${100 / rooms}%`;
  }

  grid.classList.add("grid-on");
  for (const day of days.values()) day.style.height = `${(last - first) * ppm}px`;
  for (const block of grid.querySelectorAll(".day .block")) place(block);

  function show(id, text) {
    const el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
  }

  function clearOffers() {
    const box = $("move-offers");
    box.replaceChildren();
    box.hidden = true;
  }

  function label(block) {
    const start = Number(block.dataset.start);
    const end = start + Number(block.dataset.length);
    const when = block.querySelector("a.when");
    if (when) when.textContent = `${hhmm(start)}–${hhmm(end % 1440)}`;
  }

  function setAt(block, day, start, room) {
    block.dataset.day = day;
    block.dataset.start = String(start);
    if (room !== undefined) block.dataset.room = String(room);
    const column = days.get(day);
    if (column && block.parentElement !== column) column.appendChild(block);
    place(block);
    label(block);
  }

  function roomOf(resources) {
    for (const r of resources || []) {
      const m = /^room:[^:]+:(\d+)$/.exec(r);
      if (m) return Number(m[1]);
    }
    return 0;
  }

  // Move ``block`` to ``day`` at ``start`` (minutes since midnight) by the API.
  async function move(block, day, start, confirm = false) {
    if (busy) return;
    busy = true;
    const before = { day: block.dataset.day, start: Number(block.dataset.start), room: block.dataset.room };
    const length = Number(block.dataset.length);
    show("move-error", "");
    clearOffers();
    show("move-status", word.moving);
    if (days.has(day)) setAt(block, day, start);
    block.classList.add("pending");
    let response = null;
    let data = {};
    try {
      response = await fetch(`/api/sessions/${block.dataset.session}/move`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({
          starts_at: iso(day, start),
          ends_at: iso(day, start + length),
          confirm_off_hours: confirm,
        }),
        credentials: "same-origin",
      });
      data = await response.json().catch(() => ({}));
    } catch (_) {
      response = null;
    } finally {
      block.classList.remove("pending");
      busy = false;
    }
    if (response && response.ok) {
      const when = `${day} ${hhmm(start)}–${hhmm((start + length) % 1440)}`;
      if (days.has(day)) {
        setAt(block, day, start, roomOf(data.resources));
        show("move-status", `${word.moved} ${when}`);
      } else {
        block.remove();
        show("move-status", `${word.moved} ${when} ${word.elsewhere}`);
      }
      block.dataset.moved = "1";
      return;
    }
    setAt(block, before.day, before.start, before.room); // back where it was
    show("move-status", "");
    const error = data.error || {};
    show("move-error", error.message || word.failed);
    offer(block, day, start, error);
  }

  // After a refusal: the suggested times as buttons, or a confirmation for off hours.
  function offer(block, day, start, error) {
    const box = $("move-offers");
    const buttons = [];
    if (error.code === "needs_confirmation") {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary confirm";
      b.textContent = `${word.confirm}：${day} ${hhmm(start)}`;
      b.addEventListener("click", () => move(block, day, start, true));
      buttons.push(b);
    }
    for (const s of error.suggestions || []) {
      const sDay = s.starts_at.slice(0, 10);
      const sStart = Number(s.starts_at.slice(11, 13)) * 60 + Number(s.starts_at.slice(14, 16));
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary offer";
      b.textContent = `${sDay} ${s.starts_at.slice(11, 16)}–${s.ends_at.slice(11, 16)}`;
      b.addEventListener("click", () => move(block, sDay, sStart));
      buttons.push(b);
    }
    if (!buttons.length) return;
    const intro = document.createElement("p");
    intro.textContent = error.suggestions && error.suggestions.length ? word.offers : "";
    box.replaceChildren(intro, ...buttons);
    box.hidden = false;
  }

  // The day column under ``x`` and the quarter hour at which a block whose top is at ``top`` starts.
  function target(x, top, length) {
    for (const [day, column] of days) {
      const rect = column.getBoundingClientRect();
      if (x >= rect.left && x < rect.right) {
        let start = first + Math.round((top - rect.top) / ppm / STEP) * STEP;
        start = Math.max(first, Math.min(start, last - length));
        return { day, start };
      }
    }
    return null;
  }

  if (!movable) return;
  for (const block of grid.querySelectorAll(".block.movable")) {
    let drag = null;
    let swallowClick = false;
    const hint = document.createElement("span");
    hint.className = "drop-at";
    block.addEventListener("pointerdown", (e) => {
      if (busy || e.button !== 0 || e.target.closest("a.move")) return;
      const rect = block.getBoundingClientRect();
      drag = { x0: e.clientX, y0: e.clientY, grab: e.clientY - rect.top, moved: false, to: null };
      block.setPointerCapture(e.pointerId);
    });
    block.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x0;
      const dy = e.clientY - drag.y0;
      if (!drag.moved && Math.hypot(dx, dy) < 5) return;
      if (!drag.moved) {
        drag.moved = true;
        block.classList.add("dragging");
        block.prepend(hint);
      }
      e.preventDefault();
      block.style.transform = `translate(${dx}px, ${dy}px)`;
      drag.to = target(e.clientX, e.clientY - drag.grab, Number(block.dataset.length));
      hint.textContent = drag.to ? `→ ${drag.to.day.slice(5)} ${hhmm(drag.to.start)}` : "";
    });
    const end = (e, cancelled) => {
      if (!drag) return;
      const { moved, to } = drag;
      drag = null;
      if (block.hasPointerCapture(e.pointerId)) block.releasePointerCapture(e.pointerId);
      block.style.transform = "";
      block.classList.remove("dragging");
      hint.remove();
      if (!moved) return;
      swallowClick = true; // the drag ends with a click on the block's link: not a navigation
      setTimeout(() => (swallowClick = false), 0);
      if (cancelled || !to) return;
      if (to.day === block.dataset.day && to.start === Number(block.dataset.start)) return;
      move(block, to.day, to.start);
    };
    block.addEventListener("pointerup", (e) => end(e, false));
    block.addEventListener("pointercancel", (e) => end(e, true));
    block.addEventListener(
      "click",
      (e) => {
        if (swallowClick) {
          e.preventDefault();
          e.stopPropagation();
        }
      },
      true,
    );
  }
})();
