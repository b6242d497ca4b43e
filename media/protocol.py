"""The signalling protocol between a browser and the room, as JSON over a WebSocket.

The browser always makes the offers and the server answers; ICE is not trickled (each
description carries its candidates), so one offer and one answer make a negotiation.

Browser to server::

    {"type": "join", "name": "张三"}
    {"type": "offer", "sdp": "...", "tracks": {"0": "microphone", "1": "camera"}}
    {"type": "leave"}
    {"type": "moderate", "action": "admit", "target": "p2"}   # host only; see ModerateMessage
    {"type": "self_mute", "muted": true}
    {"type": "hand", "up": true}

In a check session's room (``web.rooms.session_views``) the server decides who the browser is
(log-in cookie or signed link) and joins it at once; ``join`` is for the development room only.

``tracks`` names what the browser publishes on each of its sending m-lines (by mid); a sending
m-line not named there is not forwarded.

Server to browser::

    {"type": "joined", "id": "...", "room": "...", "rtc": {"iceServers": [...], "iceTransportPolicy": "all",
     "bundlePolicy": "max-bundle"}, "slots": {"audio": 1, "video": 1}}
    {"type": "participants", "participants": [{"id": "...", "name": "..."}]}
    {"type": "answer", "sdp": "..."}
    {"type": "slots", "audio": 2, "video": 3}   # have at least this many receiving m-lines, then offer
    {"type": "slot", "mid": "3", "participant": "...", "name": "...", "source": "camera"}
    {"type": "slot", "mid": "3", "participant": null}              # the slot is free
    {"type": "error", "code": "...", "message": "...", "fields": [...]}
    {"type": "error", "code": "rate_limited", "message": "...",
     "fields": [{"field": "type", "value": "hand"}]}     # a message refused for its kind's limit
    {"type": "roster", "you": "p1", "people": [{"id": "p1", "name": "单位 张三", "role": "host",
     "admitted": true, "muted": false, "hand_up": false, "has_floor": false,
     "sharing_screen": false, "connected": true}], "locked_mute": false, "open_to_guests": false,
     "recording": false, "recording_state": "off", "capacity": 12}   # to admitted people, after every change
    {"type": "notice", "message": "本次会议将被录制"}   # before recording starts, and on entering
    {"type": "waiting"}                  # a guest waits for the host; nothing else is sent
    {"type": "admitted"}                 # then "joined" follows
    {"type": "removed", "message": "..."}    # the socket closes after it
    {"type": "replaced", "message": "..."}   # the same person connected again; the socket closes

A waiting person receives nothing of the room (no roster, no media) and may not offer. Roster
ids (``p1``...) are the ids of ``slot`` messages; they stay the same when a person rejoins.

Every kind of message a browser sends has a rate limit (``web.rooms.rates``): one past it is
refused with a ``rate_limited`` error naming its kind (once per run of refusals) and does
nothing; a browser that keeps sending past the limits is disconnected with close code 1008. A
browser that does not read what the server sends is disconnected with close code 1013 (see
``web.rooms.outbox``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from remote_check.errors import DomainError, invalid

Source = Literal["camera", "microphone", "screen"]
SOURCE_KIND: dict[str, str] = {"camera": "video", "microphone": "audio", "screen": "video"}
MAX_SDP = 200_000
MAX_TRACKS = 16


class JoinMessage(BaseModel):
    """Enter the room under a display name."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["join"]
    name: str = Field(min_length=1, max_length=64)


class OfferMessage(BaseModel):
    """A full offer (with candidates) and what each sending m-line carries."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["offer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    tracks: dict[Annotated[str, Field(max_length=32)], Source] = Field(
        default_factory=dict, max_length=MAX_TRACKS
    )


class LeaveMessage(BaseModel):
    """Leave the room."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["leave"]


Action = Literal[
    "admit",
    "remove",
    "mute",
    "mute_all",
    "give_floor",
    "take_floor",
    "unlock",
    "open_to_guests",
    "close_to_guests",
    "record_start",
    "record_pause",
    "record_resume",
    "record_stop",
]
RECORDING_ACTIONS: frozenset[str] = frozenset(
    {"record_start", "record_pause", "record_resume", "record_stop"}
)
TARGETLESS: frozenset[str] = (
    frozenset({"mute_all", "unlock", "open_to_guests", "close_to_guests"}) | RECORDING_ACTIONS
)


class ModerateMessage(BaseModel):
    """A host's decision about one person (``target``: a roster id) or about everyone."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["moderate"]
    action: Action
    target: str = Field(default="", max_length=32)


class SelfMuteMessage(BaseModel):
    """Mute or unmute oneself."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["self_mute"]
    muted: bool


class HandMessage(BaseModel):
    """Raise or lower one's hand."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["hand"]
    up: bool


AnyClientMessage = JoinMessage | OfferMessage | LeaveMessage | ModerateMessage | SelfMuteMessage | HandMessage
RoomCommand = ModerateMessage | SelfMuteMessage | HandMessage
"""What a participant asks of the room besides negotiating."""

ClientMessage = Annotated[AnyClientMessage, Field(discriminator="type")]
_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_client_message(raw: str | bytes) -> AnyClientMessage:
    """The browser's message, or a 422 refusal saying what is wrong with it."""
    try:
        return _CLIENT_MESSAGE.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise invalid("信令消息格式错误", "Malformed signalling message", field=where) from exc


def participant_info(participant_id: str, name: str) -> dict[str, str]:
    """How a participant is shown to the others."""
    return {"id": participant_id, "name": name}


def joined(participant_id: str, room_id: str, rtc: dict[str, Any], slots: dict[str, int]) -> dict[str, Any]:
    """The server accepted the join: who you are, how to reach the server (the browser's
    ``RTCPeerConnection`` configuration), what to receive."""
    return {
        "type": "joined",
        "id": participant_id,
        "room": room_id,
        "rtc": rtc,
        "slots": {"audio": slots.get("audio", 0), "video": slots.get("video", 0)},
    }


def participants(people: list[dict[str, str]]) -> dict[str, Any]:
    """Everyone in the room now."""
    return {"type": "participants", "participants": people}


def answer(sdp: str) -> dict[str, Any]:
    """The server's answer to the browser's offer."""
    return {"type": "answer", "sdp": sdp}


def slots(audio: int, video: int) -> dict[str, Any]:
    """Ask the browser for at least this many receiving m-lines of each kind, then an offer."""
    return {"type": "slots", "audio": audio, "video": video}


def slot(mid: str, participant_id: str | None, name: str = "", source: str = "") -> dict[str, Any]:
    """What a receiving m-line carries from now on (``participant`` null: nothing)."""
    if participant_id is None:
        return {"type": "slot", "mid": mid, "participant": None}
    return {"type": "slot", "mid": mid, "participant": participant_id, "name": name, "source": source}


def error(err: DomainError, lang: str) -> dict[str, Any]:
    """A refusal, in the user's language."""
    return {"type": "error", "code": err.code, "message": err.message.in_lang(lang), "fields": err.details}


CLOSING: frozenset[str] = frozenset({"removed", "replaced"})
"""Server messages after which the signalling socket is closed by the endpoint."""


def roster(
    you: str,
    people: list[dict[str, Any]],
    *,
    locked_mute: bool,
    capacity: int,
    open_to_guests: bool = False,
    recording: bool = False,
    recording_state: str = "off",
) -> dict[str, Any]:
    """Everyone the room knows (present, waiting, or gone and able to rejoin) and their state;
    ``recording`` is true while frames are being recorded (``recording_state``: off, on, paused);
    ``open_to_guests``: guests enter without waiting for the host."""
    return {
        "type": "roster",
        "you": you,
        "people": people,
        "locked_mute": locked_mute,
        "open_to_guests": open_to_guests,
        "recording": recording,
        "recording_state": recording_state,
        "capacity": capacity,
    }


def notice(message: str) -> dict[str, Any]:
    """Something everyone must know, shown prominently (``recording`` starts)."""
    return {"type": "notice", "message": message}


def waiting() -> dict[str, Any]:
    """The guest waits until the host admits them."""
    return {"type": "waiting"}


def admitted() -> dict[str, Any]:
    """The host admitted the guest; ``joined`` follows."""
    return {"type": "admitted"}


def removed(message: str) -> dict[str, Any]:
    """The host removed this person for the rest of the session."""
    return {"type": "removed", "message": message}


def replaced(message: str) -> dict[str, Any]:
    """The same person connected again elsewhere; this connection ends."""
    return {"type": "replaced", "message": message}
