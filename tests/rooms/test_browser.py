"""Three headless Chromium pages in one room: each sees and hears the two others.

The server forwards what each page publishes without decoding it; the pages' own WebRTC
statistics show the frames they decoded and the audio packets they received.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from media.host import LocalRoomHost, RoomSummary
from web.keys import ROOMS

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["sqlite"], indirect=True)]

FORWARDED_SHARE = 0.67
"""What each receiver must get of the frame rate its sender actually sends (a busy machine makes the
browsers send less than their cameras' 30 fps; the server must not lose what they do send). On a quiet
machine they match (29.9 of 30); with the machine's two cores at a load of 7, a receiving browser
assembled 23.7 of 29.8 (its own decoding falls behind), so the floor sits below that: a server that
forwards one frame in two, or none, still fails."""
TIMEOUT_MS = 30_000


async def join(browser: Browser, server: TestServer, room: str, name: str) -> tuple[Page, str]:
    page = await browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(str(server.make_url(f"/rooms/{room}/dev?lang=en")))
    participant_id: str = await page.evaluate("name => window.rc.join(name)", name)
    return page, participant_id


async def stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.rc.stats()")
    return result


# Conditions polled by Playwright must be synchronous: rc.poll() returns the last statistics
# and starts gathering new ones.
RECEIVING = """([kind, count, minimum]) => {
    const s = window.rc.poll();
    return s !== null && s.slots.filter(x => x.kind === kind
        && (kind === 'video' ? x.framesDecoded : x.packetsReceived) >= minimum).length >= count;
}"""

GREW = """([kind, before, grown]) => {
    const s = window.rc.poll();
    return s !== null && Object.keys(before).length > 0 && Object.keys(before).every(mid => {
        const now = s.slots.find(x => x.mid === mid);
        const counted = now ? (kind === 'video' ? now.framesDecoded : now.packetsReceived) : 0;
        return counted - before[mid] >= grown;
    });
}"""


def counts(snapshot: dict[str, Any], kind: str) -> dict[str, int]:
    key = "framesDecoded" if kind == "video" else "packetsReceived"
    return {s["mid"]: s[key] for s in snapshot["slots"] if s.get("kind") == kind}


async def camera_sent(page: Page) -> tuple[int, float]:
    """Frames the page has sent of its camera, and when (ms), from its own statistics."""
    outbound = [o for o in (await stats(page))["outbound"] if o["kind"] == "video"]
    assert len(outbound) == 1, outbound
    return outbound[0]["framesSent"], outbound[0]["timestamp"]


async def forwarded_rates(
    page: Page, senders: dict[str, Page], frames: int = 90
) -> dict[str, tuple[float, float]]:
    """For each sender (by participant id): the frames per second ``page`` received of its camera
    and the frames per second the sender sent meanwhile, over the time ``frames`` more took to
    arrive here. The senders' window encloses the receiver's, so a lossless forward gives about
    equal rates."""
    sent_before = {pid: await camera_sent(sender) for pid, sender in senders.items()}
    before = await stats(page)
    await page.wait_for_function(GREW, arg=["video", counts(before, "video"), frames], polling=100)
    after = await stats(page)
    sent_after = {pid: await camera_sent(sender) for pid, sender in senders.items()}
    rates = {}
    for slot in before["slots"]:
        if slot.get("kind") != "video":
            continue
        later = next(s for s in after["slots"] if s["mid"] == slot["mid"])
        seconds = (later["timestamp"] - slot["timestamp"]) / 1000
        received = (later["framesReceived"] - slot["framesReceived"]) / seconds
        (sent0, t0), (sent1, t1) = sent_before[slot["participant"]], sent_after[slot["participant"]]
        rates[slot["participant"]] = (received, (sent1 - sent0) / ((t1 - t0) / 1000))
    return rates


def forwarded_well(rates: dict[str, tuple[float, float]]) -> bool:
    return all(received >= FORWARDED_SHARE * sent > 0 for received, sent in rates.values())


async def test_three_pages_see_and_hear_each_other(rooms_server: TestServer, chromium: Browser) -> None:
    pages: list[tuple[Page, str]] = []
    for name in ("甲", "乙", "丙"):
        pages.append(await join(chromium, rooms_server, "call-1", name))
    ids = {participant_id for _, participant_id in pages}
    for page, participant_id in pages:
        await page.wait_for_function(RECEIVING, arg=["video", 2, 30], polling=200)
        await page.wait_for_function(RECEIVING, arg=["audio", 2, 10], polling=200)
        snapshot = await stats(page)
        senders = {s["participant"] for s in snapshot["slots"] if s["kind"] == "video"}
        assert senders == ids - {participant_id}
        assert {s["source"] for s in snapshot["slots"]} == {"camera", "microphone"}
    host = rooms_server.app[ROOMS]
    assert isinstance(host, LocalRoomHost)
    assert host.summary() == [RoomSummary("call-1", participants=3, published=6, forwarding=12)]
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    for page, participant_id in pages:
        others = {pid: p for p, pid in pages if pid != participant_id}
        rates = await forwarded_rates(page, others)
        print(f"{participant_id}: received / sent fps {rates}")
        assert set(rates) == ids - {participant_id}
        assert forwarded_well(rates), rates
        audio = counts(await stats(page), "audio")
        await page.wait_for_function(GREW, arg=["audio", audio, 50], polling=100)
    cpu = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    print(f"server and test process CPU while forwarding 12 streams: {cpu:.0%} of one core")


SOURCES = """() => { const s = window.rc.poll(); return s === null ? null :
    s.slots.filter(x => x.kind === 'video' && x.framesDecoded > 0).map(x => x.source).sort().join(','); }"""


MLINES = """() => window.rc.client.pc.getTransceivers().reduce(
    (n, t) => ({...n, [t.direction]: (n[t.direction] || 0) + 1}), {})"""


async def wait_sources(page: Page, sources: str) -> None:
    """Wait until the page decodes video from exactly these sources (sorted, comma-separated)."""
    await page.wait_for_function(f"() => ({SOURCES})() === {sources!r}", polling=100)


async def test_screen_share_late_joiner_and_leaving(rooms_server: TestServer, chromium: Browser) -> None:
    alice, alice_id = await join(chromium, rooms_server, "call-2", "Alice")
    bob, bob_id = await join(chromium, rooms_server, "call-2", "Bob")
    await wait_sources(bob, "camera")
    await alice.evaluate("window.rc.shareScreen()")
    await wait_sources(bob, "camera,screen")
    screen = next(s for s in (await stats(bob))["slots"] if s["source"] == "screen")
    assert screen["participant"] == alice_id
    # the share is asked for sharp (up to 1920x1080): the fake screen arrives at full size
    assert (screen["frameWidth"], screen["frameHeight"]) == (1920, 1080)

    mlines = (await alice.evaluate(MLINES), await bob.evaluate(MLINES))
    assert mlines[0]["sendonly"] == 3, "Alice sends camera, microphone and screen"
    assert mlines[1]["sendonly"] == 2
    await alice.evaluate("window.rc.stopScreen()")
    await bob.wait_for_function("() => !window.rc.poll().slots.some(x => x.source === 'screen')", polling=100)
    await alice.evaluate("window.rc.shareScreen()")
    await wait_sources(bob, "camera,screen")
    assert await alice.evaluate(MLINES) == mlines[0], "the share reuses its m-line"
    assert await bob.evaluate(MLINES) == mlines[1], "Bob's slot is reused"

    carol, carol_id = await join(chromium, rooms_server, "call-2", "Carol")
    await wait_sources(carol, "camera,camera,screen")
    await carol.wait_for_function(RECEIVING, arg=["audio", 2, 10], polling=200)
    await wait_sources(alice, "camera,camera")

    await bob.evaluate("window.rc.leave()")
    await carol.wait_for_function(
        "id => !window.rc.poll().slots.some(x => x.participant === id)", arg=bob_id, polling=100
    )
    await alice.wait_for_function("() => window.rc.client.participants.length === 2", polling=100)
    assert {p["name"] for p in (await stats(alice))["participants"]} == {"Alice", "Carol"}
    assert {s["participant"] for s in (await stats(carol))["slots"]} == {alice_id}
    assert {s["participant"] for s in (await stats(alice))["slots"]} == {carol_id}
