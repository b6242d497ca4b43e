"""What makes a browser's offer acceptable to the room."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from media.codecs import FORWARDED, is_forwardable
from media.protocol import SOURCE_KIND
from media.sdp import MediaSection, media_sections
from remote_check.errors import DomainError, invalid


def read_offer(sdp: str, tracks: Mapping[str, str]) -> list[MediaSection]:
    """The media sections of an offer, or a 422 refusal.

    Every m-line in use must start with the codec the room forwards (VP8, Opus): subscribers
    receive the publisher's frames as they are, so everyone must use the same codec. Each
    named track must be an m-line that sends media of the source's kind.
    """
    try:
        sections = media_sections(sdp)
    except ValueError as exc:
        raise invalid("SDP 格式错误", "Malformed SDP", field="sdp") from exc
    check_codecs(sections)
    check_tracks(sections, tracks)
    return sections


def check_codecs(sections: Sequence[MediaSection]) -> None:
    """Refuse m-lines whose preferred codec is not the one the room forwards."""
    for section in sections:
        if section.rejected:
            continue
        if not section.mid:
            raise invalid("SDP 缺少 mid", "An m-line has no mid", field="sdp")
        if not is_forwardable(section.kind, section.first_codec):
            raise _codec_refusal(section)


def _codec_refusal(section: MediaSection) -> DomainError:
    wanted = FORWARDED[section.kind]
    return invalid(
        f"会议只转发 {wanted} 编码的{'视频' if section.kind == 'video' else '音频'}，请将其设为首选编码",
        f"The room forwards {section.kind} in {wanted} only; make it the preferred codec",
        field=f"sdp.{section.mid}",
    )


def check_tracks(sections: Sequence[MediaSection], tracks: Mapping[str, str]) -> None:
    """Refuse names of tracks that are not on a sending m-line of the right kind."""
    by_mid = {section.mid: section for section in sections}
    for mid, source in tracks.items():
        section = by_mid.get(mid)
        if section is None or not section.sends or section.kind != SOURCE_KIND[source]:
            raise invalid(
                "发布的媒体与 SDP 不符",
                "A published track does not match a sending m-line of its kind",
                field=f"tracks.{mid}",
            )
