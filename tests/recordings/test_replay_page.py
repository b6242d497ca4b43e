"""The auditors' replay page over HTTP, on both databases: what it shows, who may see it, media
served with range requests, the audit trail of every look, and the integrity check."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from recordings.paths import REPLAY_FILE
from remote_check.audit.models import AuditEntry
from remote_check.checklist.models import Standard
from tests.recordings.replay_world import ReplayWorld, replay_media, replay_world
from tests.web_helpers import WebServer

__all__ = ["replay_media", "replay_world"]  # fixtures


RECORDING_STEPS = {"recording.start", "recording.stop", "recording.interrupted"}  # the world's own


async def _actions(server: WebServer) -> list[tuple[str, str, dict[str, object]]]:
    async with server.db.factory() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [
            (r.action, r.target, dict(r.details))
            for r in rows
            if r.action.startswith("recording.") and r.action not in RECORDING_STEPS
        ]


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_the_page_shows_the_checklist_by_standard_with_marks_and_stills(
    replay_world: ReplayWorld,
) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    response = await browser.get(w.url())
    assert response.status == 200
    html = await response.text()
    sections = re.findall(r'<section class="standard" data-standard="(\w+)">', html)
    assert sections == [s.value for s in Standard]
    text = _text(html)
    for label in ("实施真实", "财务规范", "功能完整"):
        assert label in text
    item = html[html.index(f'id="item-{w.marked}"') :]
    item = item[: item.index("</li>")]
    assert "00:02–00:05" in _text(item)
    assert "00:09–00:10" in _text(item)
    assert "企业现场演示了系统上线与使用记录" in item
    assert 'data-start="2.0"' in item
    assert f"/sessions/{w.session_id}/replay/stills/{w.still_id}" in item
    assert 'data-result="pass"' in item
    finance = w.codes[Standard.FINANCE][0]
    assert f'data-code="{finance}" data-start="6.0"' in html  # its segment on the timeline
    assert f'src="/sessions/{w.session_id}/replay/files/replay/{REPLAY_FILE}"' in html
    assert "replay.vtt" in html
    # each person's tracks, part by part; the crash's part is labelled
    assert re.findall(r'data-part="(\d)" data-state="(\w+)"', html) == [
        ("1", "stopped"),
        ("2", "interrupted"),
    ]
    assert "已中断" in text
    assert "陈经理" in text
    assert "李工程师" in text
    assert f'src="/sessions/{w.session_id}/replay/files/part-1/bob-screen.mkv" type="video/webm"' in html
    assert (
        f'src="/sessions/{w.session_id}/replay/files/part-2/alice-microphone.mkv" type="audio/webm"' in html
    )
    english = _text(await (await browser.get(w.url("?lang=en"))).text())
    assert "Real implementation" in english
    assert "Interrupted" in english


async def test_links_open_at_an_item_or_a_time(replay_world: ReplayWorld) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    finance = w.codes[Standard.FINANCE][0]
    html = await (await browser.get(w.url(f"?item={finance}"))).text()
    assert 'data-start="6.0"' in html[html.index('id="replay-page"') :][:300]
    html = await (await browser.get(w.url("?t=7.25"))).text()
    assert 'data-start="7.25"' in html[html.index('id="replay-page"') :][:300]
    assert (await browser.get(w.url("?t=soon"))).status == 422


async def test_media_are_served_with_range_requests(replay_world: ReplayWorld) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    whole = (w.folder / "replay" / REPLAY_FILE).read_bytes()
    response = await browser.get(w.url(f"/files/replay/{REPLAY_FILE}"), headers={"Range": "bytes=100-199"})
    assert response.status == 206
    assert await response.read() == whole[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Cache-Control"] == "private"
    camera = await browser.get(w.url("/files/part-1/alice-camera.mkv"))
    assert camera.status == 200
    assert camera.headers["Content-Type"] == "video/webm"
    assert await camera.read() == (w.folder / "part-1" / "alice-camera.mkv").read_bytes()
    bad = await browser.get(w.url(f"/files/replay/{REPLAY_FILE}"), headers={"Range": "bytes=z-1"})
    assert bad.status == 416
    voice = await browser.get(w.url("/files/part-1/alice-microphone.mkv"), headers={"Range": "bytes=0-"})
    assert voice.status == 206
    assert voice.headers["Content-Type"] == "audio/webm"
    for escape in (
        "/files/part-1/..%2F..%2F..%2Fsecret.key",
        "/files/%2E%2E/%2E%2E/secret.key",
        "/files/part-1/nothing.mkv",
    ):
        assert (await browser.get(w.url(escape))).status == 404, escape


async def test_another_city_and_strangers_see_nothing(replay_world: ReplayWorld) -> None:
    w = replay_world
    paths = [
        w.url(),
        w.url(f"/files/replay/{REPLAY_FILE}"),
        w.url(f"/stills/{w.still_id}"),
        w.url("/evidence.zip"),
    ]
    foshan = await w.web.signed_in("fs_auditor")
    for path in paths:
        assert (await foshan.get(path)).status == 404, path
    assert (await foshan.post(w.url("/verify"))).status == 404
    expert = await w.web.signed_in("expert")  # sat on the panel, but replay is for auditors
    assert (await expert.get(w.url())).status == 403
    anonymous = w.web.browser()
    response = await anonymous.get(w.url())
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
    assert [a for a, _, _ in await _actions(w.web)] == []
    admin = await w.web.signed_in("admin")
    assert (await admin.get(w.url())).status == 200


async def test_every_view_and_download_is_in_the_audit_log(replay_world: ReplayWorld) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    target = f"session:{w.session_id}"
    assert (await browser.get(w.url(f"?item={w.marked}"))).status == 200
    video = w.url(f"/files/replay/{REPLAY_FILE}")
    for headers in ({"Range": "bytes=0-"}, {"Range": "bytes=5000-"}, {"Range": "bytes=9000-9999"}):
        assert (await browser.get(video, headers=headers)).status == 206  # one playback: audited once
    assert (await browser.get(w.url("/files/part-2/alice-camera.mkv"))).status == 200
    still = await browser.get(w.url(f"/stills/{w.still_id}"))
    assert still.status == 200
    assert still.headers["Content-Type"] == "image/jpeg"
    assert (await browser.get(w.url("/evidence.zip"))).status == 200
    assert (await browser.post(w.url("/verify"))).status == 200
    actions = await _actions(w.web)
    assert [(a, t) for a, t, _ in actions] == [
        ("recording.view", target),
        ("recording.download", target),
        ("recording.download", target),
        ("recording.still", target),
        ("recording.evidence", target),
        ("recording.verify", target),
    ]
    assert actions[0][2] == {"item": w.marked}
    assert actions[1][2] == {"file": f"replay/{REPLAY_FILE}"}
    assert actions[2][2] == {"file": "part-2/alice-camera.mkv"}
    assert actions[3][2]["still"] == w.still_id
    assert actions[5][2]["ok"] is True


async def test_verify_names_a_changed_file(replay_world: ReplayWorld) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    response = await browser.post(w.url("/verify"))
    html = await response.text()
    assert re.findall(r'data-folder="([\w-]+)" data-ok="(\w+)"', html) == [
        ("part-1", "true"),
        ("part-2", "true"),
        ("replay", "true"),
    ]
    path = w.folder / "part-1" / "bob-camera.mkv"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    html = await (await browser.post(w.url("/verify"), headers={"Cookie": "rc_lang=en"})).text()
    assert 'data-ok="false"' in html
    assert re.findall(r'data-folder="([\w-]+)" data-ok="(\w+)"', html)[0] == ("part-1", "false")
    assert "file changed: bob-camera.mkv" in _text(html)
    assert "alice-camera.mkv" not in html
    zh = _text(await (await browser.post(w.url("/verify?lang=zh"))).text())
    assert "文件已被修改：bob-camera.mkv" in zh
    outcomes = [d for a, _, d in await _actions(w.web) if a == "recording.verify"]
    assert [o["ok"] for o in outcomes] == [True, False, False]
    assert outcomes[1]["folders"] == {"part-1": ["changed:bob-camera.mkv"], "part-2": [], "replay": []}


async def test_the_verify_form_posts_with_its_csrf_token(replay_world: ReplayWorld) -> None:
    w = replay_world
    browser = await w.web.signed_in("auditor")
    html = await (await browser.get(w.url())).text()
    token = re.search(
        r'action="[^"]*/verify" class="inline">\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
        html,
    )
    assert token is not None
    browser.csrf = ""  # as a browser's form does: the token in the body only
    assert (await browser.post(w.url("/verify"), data={"csrf_token": "wrong"})).status == 403
    assert (await browser.post(w.url("/verify"), data={"csrf_token": token.group(1)})).status == 200


async def test_the_session_page_links_to_the_replay_for_who_may_replay(replay_world: ReplayWorld) -> None:
    w = replay_world
    link = f'href="/sessions/{w.session_id}/replay" id="replay-link"'
    auditor = await w.web.signed_in("auditor")
    assert link in await (await auditor.get(f"/sessions/{w.session_id}")).text()
    expert = await w.web.signed_in("expert")
    page = await expert.get(f"/sessions/{w.session_id}")
    assert page.status == 200
    assert link not in await page.text()
