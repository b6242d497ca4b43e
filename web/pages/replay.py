"""The auditors' replay of a recorded session: the replay video beside the checklist (results,
notes, the ranges the experts marked, stills), a timeline of the marked items, each person's own
tracks, the evidence package and the integrity check.

Everything is behind :attr:`Permission.RECORDING_READ` and the session's scope (out of scope: 404,
like absent). Media are files under the session's recording folder, served by
``web.FileResponse`` (HTTP range requests; ``Cache-Control: private``). Every view, download,
still, evidence package and verification is written to the audit log in a short transaction of
its own; a playback's range requests are audited once, at the request for its first byte.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from recordings import evidence, report
from recordings.actions import audited_read
from recordings.evidence import Evidence, load, report_items
from recordings.integrity import CHUNK, manifest_key
from recordings.marks import still_of
from recordings.models import PartState, ReplayState
from recordings.paths import (
    CHAPTERS_FILE,
    REPLAY_FILE,
    REPLAY_FOLDER,
    inside,
    recordings_root,
    session_folder,
)
from recordings.verification import audited_digests, check_folders
from remote_check.accounts.access import Permission, Principal
from remote_check.checklist.labels import STANDARD_LABELS
from remote_check.clock import format_local
from remote_check.errors import Conflict, Message, NotFound, invalid
from scheduler.access import session_in_scope
from scheduler.models import CheckSession
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, SECRET, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()

BASE = r"/sessions/{session_id:\d+}/replay"
SOURCE_LABELS = {
    "camera": Message("摄像头", "Camera"),
    "microphone": Message("麦克风", "Microphone"),
    "screen": Message("屏幕共享", "Screen share"),
}
STATE_LABELS = {
    "none": Message("尚无回放（会议未录制或录制未结束）", "No replay yet (not recorded, or still recording)"),
    ReplayState.QUEUED.value: Message("回放排队生成中", "The replay is queued"),
    ReplayState.RENDERING.value: Message("回放生成中", "The replay is being rendered"),
    ReplayState.READY.value: Message("回放已就绪", "The replay is ready"),
    ReplayState.FAILED.value: Message("回放生成失败", "Rendering the replay failed"),
}
PART_LABELS = {
    PartState.RECORDING: Message("录制中", "Recording"),
    PartState.STOPPED: Message("已完成", "Complete"),
    PartState.INTERRUPTED: Message("已中断", "Interrupted"),
}
NO_RECORDING = Message("该会议没有录像", "This session has no recording")


def _session_id(request: web.Request) -> int:
    return int(request.match_info["session_id"])


async def _audited(
    request: web.Request, principal: Principal, session_id: int, action: str, details: dict[str, Any]
) -> CheckSession:
    """The session in the user's scope (else 404), with ``action`` in the audit log: one short
    transaction that writes nothing else."""
    async with request.app[DB]() as session, session.begin():
        return await audited_read(
            session, principal, session_id, action, details, now=request.app[CLOCK].now()
        )


async def _in_scope(request: web.Request, principal: Principal, session_id: int) -> CheckSession:
    async with request.app[DB_READ]() as session:
        return await session_in_scope(session, principal, session_id)


def _root(request: web.Request) -> Path:
    return recordings_root(request.app[SETTINGS])


def _files_url(session_id: int, relative: str) -> str:
    return f"/sessions/{session_id}/replay/files/{relative}"


def _start(request: web.Request, loaded: Evidence) -> float | None:
    """Where the page opens: ``?t=<seconds>``, or ``?item=<code>`` (its first mark)."""
    raw = request.query.get("t", "").strip()
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds < 86400:
            raise invalid("时间点无效", "The time is not valid", field="t")
        return seconds
    code = request.query.get("item", "").strip()
    for item in loaded.items:
        if item.code == code and loaded.marks.get(item.id):
            return loaded.marks[item.id][0].start
    return None


def _context(request: web.Request, loaded: Evidence, disk: evidence.Disk) -> dict[str, Any]:
    lang = lang_of(request)
    sid = loaded.check.id
    replay = loaded.replay
    state = replay.state.value if replay is not None else "none"
    ready = state == ReplayState.READY.value and disk.replay_size > 0
    ends = [m.end or m.start for marks in loaded.marks.values() for m in marks]
    duration = (replay.duration if replay is not None and replay.duration else 0.0) or max(ends, default=0.0)
    span = max(duration, 1.0)
    items, timeline = [], []
    for item in loaded.items:
        marks = loaded.marks.get(item.id, [])
        ranges = [report.Range(m.start, m.end) for m in marks]
        items.append(
            {
                "code": item.code,
                "standard": item.standard.value,
                "title": item.title_en if lang == "en" else item.title_zh,
                "result": item.result.value,
                "result_label": report.RESULT_LABELS[item.result].in_lang(lang),
                "notes": item.notes,
                "start": marks[0].start if marks else None,
                "marks": [{"start": r.start, "text": report.range_text(r)} for r in ranges],
                "stills": [
                    {
                        "url": f"/sessions/{sid}/replay/stills/{s.id}",
                        "at": s.at,
                        "text": report.clock_text(s.at),
                    }
                    for s in loaded.stills.get(item.id, [])
                ],
            }
        )
        for mark in marks:
            end = mark.end if mark.end is not None else mark.start
            timeline.append(
                {
                    "code": item.code,
                    "start": mark.start,
                    "left": round(100 * min(mark.start, span) / span, 3),
                    "width": round(max(0.6, 100 * (end - mark.start) / span), 3),
                    "result": item.result.value,
                    "text": f"{item.code} {report.range_text(report.Range(mark.start, mark.end))}",
                }
            )
    groups = [
        (
            standard.value,
            STANDARD_LABELS[standard].in_lang(lang),
            [i for i in items if i["standard"] == standard],
        )
        for standard in STANDARD_LABELS
    ]
    parts_by_folder = dict(disk.parts)
    parts = []
    for part in loaded.parts:
        name = Path(part.folder).name
        tracks = [
            {
                "person": t.person or t.participant,
                "source": SOURCE_LABELS[t.source].in_lang(lang) if t.source in SOURCE_LABELS else t.source,
                "audio": t.media_type.startswith("audio/"),
                "type": t.media_type,
                "url": _files_url(sid, f"{name}/{t.name}"),
                "present": t.size > 0,
                "size": f"{t.size / 1e6:.1f} MB" if t.size >= 100_000 else f"{t.size / 1e3:.0f} KB",
            }
            for t in parts_by_folder.get(name, [])
        ]
        parts.append(
            {
                "number": part.number,
                "state": part.state.value,
                "state_label": PART_LABELS[part.state].in_lang(lang),
                "started": format_local(part.started_at),
                "stopped": format_local(part.stopped_at) if part.stopped_at else "",
                "tracks": tracks,
            }
        )
    return {
        "s": loaded.check,
        "project_code": loaded.project_code,
        "enterprise": loaded.enterprise,
        "state": state,
        "state_label": STATE_LABELS[state].in_lang(lang),
        "progress": replay.progress if replay is not None else 0.0,
        "error": replay.error if replay is not None else "",
        "ready": ready,
        "video_url": _files_url(sid, f"{REPLAY_FOLDER}/{REPLAY_FILE}"),
        "chapters_url": _files_url(sid, f"{REPLAY_FOLDER}/{CHAPTERS_FILE}") if disk.chapters else "",
        "duration": duration,
        "duration_text": report.clock_text(duration),
        "start": _start(request, loaded),
        "groups": [g for g in groups if g[2]],
        "timeline": timeline,
        "parts": parts,
        "has_recording": bool(loaded.parts) or disk.replay_size > 0,
    }


@routes.get(BASE, name="replay")
@aiohttp_jinja2.template("recordings/replay.html")
async def replay_page(request: web.Request) -> dict[str, Any]:
    """The replay page (audited ``recording.view``)."""
    principal = signed_in(request, Permission.RECORDING_READ)
    sid = _session_id(request)
    asked = {k: request.query[k][:40] for k in ("item", "t") if request.query.get(k)}
    await _audited(request, principal, sid, "recording.view", asked)
    async with request.app[DB_READ]() as session:
        loaded = await load(session, principal, sid)
    disk = await asyncio.to_thread(evidence.read_disk, _root(request), sid, [p.folder for p in loaded.parts])
    return _context(request, loaded, disk)


def _private(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Cache-Control"] = "private"
    return response


@routes.get(BASE + r"/files/{path:.+}")
async def recording_file(request: web.Request) -> web.StreamResponse:
    """A file of the session's recording (the replay, its chapters, a person's track, an index or
    manifest), with range requests; the first fetch of a file is audited ``recording.download``."""
    principal = signed_in(request, Permission.RECORDING_READ)
    sid = _session_id(request)
    relative = request.match_info["path"]
    folder = session_folder(_root(request), sid)
    try:
        path = inside(folder, relative)
    except ValueError:
        raise NotFound("录像文件", "Recording file") from None
    try:
        first = request.http_range.start in (None, 0)
    except ValueError:  # a malformed Range: FileResponse answers 416, the attempt is audited
        first = True
    if path.suffix.lower() not in evidence.MEDIA_TYPES or not await asyncio.to_thread(path.is_file):
        await _in_scope(request, principal, sid)  # out of scope stays 404 like absent: no hint
        raise NotFound("录像文件", "Recording file")
    if first:
        await _audited(request, principal, sid, "recording.download", {"file": relative})
    else:
        await _in_scope(request, principal, sid)
    headers = {"Content-Type": evidence.media_type(path.name)}
    return _private(web.FileResponse(path, headers=headers))


@routes.get(BASE + r"/stills/{still_id:\d+}")
async def still_file(request: web.Request) -> web.StreamResponse:
    """A still taken as evidence (audited ``recording.still``)."""
    principal = signed_in(request, Permission.RECORDING_READ)
    sid, still_id = _session_id(request), int(request.match_info["still_id"])
    async with request.app[DB_READ]() as session:
        check = await session_in_scope(session, principal, sid)
        still = await still_of(session, check.id, still_id)
    if still is None:
        raise NotFound("截图", "Still")
    try:
        path = inside(_root(request), still.file)
    except ValueError:
        raise NotFound("截图", "Still") from None
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("截图", "Still")
    await _audited(request, principal, sid, "recording.still", {"still": still.id, "file": still.file})
    return _private(web.FileResponse(path, headers={"Content-Type": evidence.media_type(path.name)}))


@routes.get(BASE + "/evidence.zip")
async def evidence_package(request: web.Request) -> web.StreamResponse:
    """The evidence package: replay, chapters, every part's files, manifests, stills and the
    checklist report (audited ``recording.evidence`` with the zip's SHA-256)."""
    principal = signed_in(request, Permission.RECORDING_READ)
    sid = _session_id(request)
    app = request.app
    async with app[DB_READ]() as session:
        loaded = await load(session, principal, sid)
    root = _root(request)
    members = await asyncio.to_thread(evidence.package_members, root, loaded)
    if not members:
        raise Conflict(NO_RECORDING)
    now = app[CLOCK].now()
    header = report.ReportHeader(
        sid, loaded.project_code, loaded.enterprise, loaded.check.starts_at, now, principal.display_name
    )
    items = report_items(loaded)
    extras = {
        f"session-{sid}/report/checklist.html": report.checklist_html(header, items).encode(),
        f"session-{sid}/report/checklist.csv": report.checklist_csv(header, items).encode(),
    }
    spool = app[SETTINGS].data_dir / "tmp"
    target = spool / f"evidence-{sid}-{uuid.uuid4().hex}.zip"
    try:
        await asyncio.to_thread(spool.mkdir, parents=True, exist_ok=True)
        digest, names = await asyncio.to_thread(evidence.write_package, target, members, extras)
        size = (await asyncio.to_thread(target.stat)).st_size
        await _audited(
            request,
            principal,
            sid,
            "recording.evidence",
            {"sha256": digest, "files": len(names), "bytes": size},
        )
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="session-{sid}-evidence.zip"',
                "Cache-Control": "private",
            }
        )
        response.content_length = size
        await response.prepare(request)
        stream = await asyncio.to_thread(target.open, "rb")
        try:
            while chunk := await asyncio.to_thread(stream.read, CHUNK):
                await response.write(chunk)
        finally:
            await asyncio.to_thread(stream.close)
        await response.write_eof()
        return response
    finally:
        await asyncio.to_thread(target.unlink, missing_ok=True)


@routes.post(BASE + "/verify")
@aiohttp_jinja2.template("recordings/verify.html")
async def verify_submit(request: web.Request) -> dict[str, Any]:
    """Check every byte of every part and of the replay against their signed manifests (in worker
    threads); audited ``recording.verify`` with the outcome."""
    principal = signed_in(request, Permission.RECORDING_READ)
    sid = _session_id(request)
    lang = lang_of(request)
    async with request.app[DB_READ]() as session:
        loaded = await load(session, principal, sid)
        audited = await audited_digests(session, sid)
    folders = await asyncio.to_thread(evidence.verify_folders, _root(request), loaded)
    if not folders:
        raise Conflict(NO_RECORDING)
    key = manifest_key(request.app[SECRET])
    checks = await check_folders(sid, [path for _, path in folders], key, audited)
    rows = [
        {
            "folder": check.name,
            "ok": check.ok,
            "files": check.report.files,
            "findings": [f.message.in_lang(lang) for f in check.report.findings],
        }
        for check in checks
    ]
    ok = all(r["ok"] for r in rows)
    details = {
        "ok": ok,
        "folders": {check.name: [f"{f.kind}:{f.name}" for f in check.report.findings] for check in checks},
    }
    await _audited(request, principal, sid, "recording.verify", details)
    return {"s": loaded.check, "rows": rows, "ok": ok, "checked_at": format_local(request.app[CLOCK].now())}


@routes.get(BASE + "/verify")
async def verify_address(request: web.Request) -> web.StreamResponse:
    """The replay page (where the verification's answer reloads or switches language)."""
    signed_in(request, Permission.RECORDING_READ)
    lang = request.query.get("lang")
    query = f"?{urlencode({'lang': lang})}" if lang else ""
    raise web.HTTPSeeOther(f"/sessions/{_session_id(request)}/replay{query}")
