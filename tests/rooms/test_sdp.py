"""Reading offers and adjusting answers (pure functions over SDP text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from media.offers import read_offer
from media.sdp import add_bitrate_hints, ice_credentials, media_sections
from remote_check.errors import DomainError

# An offer of headless Chromium 156 (camera, microphone, one receiving video m-line), made by
# the room page's code with VP8 and Opus preferred.
CHROME_OFFER = (Path(__file__).parent / "chrome_offer.sdp").read_text().replace("\n", "\r\n")


def test_sections_of_a_chrome_offer() -> None:
    sections = media_sections(CHROME_OFFER)
    assert [(s.kind, s.mid, s.direction, s.first_codec) for s in sections] == [
        ("audio", "0", "sendonly", "opus"),
        ("video", "1", "sendonly", "VP8"),
        ("video", "2", "recvonly", "VP8"),
    ]
    audio, camera, slot = sections
    assert audio.media_ssrc == 3072390379
    assert camera.media_ssrc == 3910484420, "the media SSRC, not its retransmission SSRC"
    assert slot.media_ssrc is None
    assert (camera.sends, camera.receives, slot.sends, slot.receives) == (True, False, False, True)


def test_a_rejected_m_line_neither_sends_nor_receives() -> None:
    sdp = CHROME_OFFER.replace(
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9",
        "m=video 0 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9",
        1,
    )
    camera = media_sections(sdp)[1]
    assert camera.rejected
    assert not camera.sends
    assert not camera.receives


def test_bitrate_hints_are_added_to_vp8_only() -> None:
    hinted = add_bitrate_hints(CHROME_OFFER, start_kbps=1000, min_kbps=300)
    lines = hinted.split("\r\n")
    for index in [i for i, line in enumerate(lines) if line == "a=rtpmap:96 VP8/90000"]:
        assert lines[index + 1] == "a=fmtp:96 x-google-start-bitrate=1000;x-google-min-bitrate=300"
    assert hinted.count("x-google-start-bitrate") == 2
    assert "a=fmtp:111 minptime=10;useinbandfec=1\r\n" in hinted, "audio is left alone"
    assert "a=fmtp:97 apt=96\r\n" in hinted, "rtx is left alone"
    assert (
        hinted.replace("a=fmtp:96 x-google-start-bitrate=1000;x-google-min-bitrate=300\r\n", "")
        == CHROME_OFFER
    )


def test_bitrate_hints_replace_earlier_hints_and_keep_other_parameters() -> None:
    sdp = CHROME_OFFER.replace(
        "a=rtpmap:96 VP8/90000\r\n", "a=rtpmap:96 VP8/90000\r\na=fmtp:96 x-google-start-bitrate=50;foo=1\r\n"
    )
    hinted = add_bitrate_hints(add_bitrate_hints(sdp, 800, 200), 900, 250)
    assert "a=fmtp:96 foo=1;x-google-start-bitrate=900;x-google-min-bitrate=250\r\n" in hinted
    assert "x-google-start-bitrate=50" not in hinted
    assert hinted.count("a=fmtp:96 ") == 2


def test_an_offer_of_the_room_page_is_read() -> None:
    sections = read_offer(CHROME_OFFER, {"0": "microphone", "1": "camera"})
    assert len(sections) == 3


@pytest.mark.parametrize(
    ("tracks", "field"),
    [
        ({"2": "camera"}, "tracks.2"),  # a receiving m-line
        ({"0": "camera"}, "tracks.0"),  # audio named as a camera
        ({"9": "screen"}, "tracks.9"),  # no such m-line
    ],
)
def test_names_of_tracks_must_match_sending_m_lines(tracks: dict[str, str], field: str) -> None:
    with pytest.raises(DomainError) as refused:
        read_offer(CHROME_OFFER, tracks)
    assert refused.value.status == 422
    assert refused.value.details == [{"field": field}]


def test_an_offer_preferring_another_video_codec_is_refused() -> None:
    h264 = CHROME_OFFER.replace(
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 9 UDP/TLS/RTP/SAVPF 98 96 97", 1
    )
    h264 = h264.replace("a=rtpmap:96 VP8/90000", "a=rtpmap:98 H264/90000\r\na=rtpmap:96 VP8/90000", 1)
    with pytest.raises(DomainError) as refused:
        read_offer(h264, {"1": "camera"})
    assert refused.value.message.en == "The room forwards video in VP8 only; make it the preferred codec"
    assert "VP8" in refused.value.message.zh


def test_malformed_sdp_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        read_offer("v=0\r\nm=video nine UDP/TLS/RTP/SAVPF 96\r\n", {})
    assert refused.value.message.en == "Malformed SDP"


def test_ice_credentials_are_read_from_the_offer() -> None:
    assert ice_credentials(CHROME_OFFER) == ("YV+m", "q+cq7DZRutXt/SVzD10FGYKI")
    restarted = CHROME_OFFER.replace("a=ice-ufrag:YV+m", "a=ice-ufrag:Zq1w")
    assert ice_credentials(restarted) == ("Zq1w", "q+cq7DZRutXt/SVzD10FGYKI")
    assert ice_credentials("v=0\r\na=ice-ufrag:abcd\r\n") is None, "no password, no credentials"
