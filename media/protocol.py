"""The signalling protocol between a browser and the room, as JSON over a WebSocket.

The browser always makes the offers and the server answers; ICE is not trickled (each
description carries its candidates), so one offer and one answer make a negotiation.

Browser to server (each a model below, parsed once at the socket by :func:`parse_client_message`)::

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

Server to browser (each a frozen model below, e.g. :class:`JoinedMessage`; the room builds them, the
socket's edge, ``web.rooms.outbox``, alone turns them into JSON)::

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

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
)
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from media.moderation import Recording, RoomRole
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


class IceServer(TypedDict):
    """One entry of the browser's ``iceServers`` (TURN entries carry credentials; keys absent
    otherwise, never null)."""

    urls: list[str]
    username: NotRequired[str]
    credential: NotRequired[str]


class RtcConfiguration(TypedDict):
    """The browser's ``RTCPeerConnection`` configuration (``media.config.RoomConfig``)."""

    iceServers: list[IceServer]  # the browser's own names
    iceTransportPolicy: str
    bundlePolicy: str


class _Shape(BaseModel):
    """What the server sends: immutable, and nothing but its declared fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SlotCounts(_Shape):
    """How many receiving m-lines of each kind the browser is to have."""

    audio: int = 0
    video: int = 0


class ParticipantInfo(_Shape):
    """How a participant is shown to the others."""

    id: str
    name: str


class RosterPerson(_Shape):
    """One person of the roster and their state (``id``: a roster id, as in ``slot`` messages)."""

    id: str
    name: str
    role: RoomRole
    admitted: bool
    muted: bool
    hand_up: bool
    has_floor: bool
    sharing_screen: bool
    connected: bool


class JoinedMessage(_Shape):
    """The server accepted the join: who you are, how to reach the server (the browser's
    ``RTCPeerConnection`` configuration), what to receive."""

    type: Literal["joined"] = "joined"
    id: str
    room: str
    rtc: RtcConfiguration
    slots: SlotCounts


class ParticipantsMessage(_Shape):
    """Everyone in the call now."""

    type: Literal["participants"] = "participants"
    participants: list[ParticipantInfo]


class AnswerMessage(_Shape):
    """The server's answer to the browser's offer."""

    type: Literal["answer"] = "answer"
    sdp: str


class SlotsMessage(_Shape):
    """Ask the browser for at least this many receiving m-lines of each kind, then an offer."""

    type: Literal["slots"] = "slots"
    audio: int
    video: int


class SlotMessage(_Shape):
    """What a receiving m-line carries from now on; ``participant`` None: nothing (and then the
    message has neither ``name`` nor ``source``)."""

    type: Literal["slot"] = "slot"
    mid: str
    participant: str | None
    name: str = ""
    source: str = ""

    @model_serializer(mode="wrap")
    def _free_slot(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.participant is None:
            data.pop("name", None)
            data.pop("source", None)
        return data


class ErrorMessage(_Shape):
    """A refusal, in the user's language (``fields``: what it concerns; a rate limit names the
    kind of message refused: ``[{"field": "type", "value": "hand"}]``)."""

    type: Literal["error"] = "error"
    code: str
    message: str
    fields: list[dict[str, str]] = Field(default_factory=list)

    @classmethod
    def refusing(cls, err: DomainError, lang: str) -> ErrorMessage:
        """The browser's side of a :class:`DomainError`."""
        return cls(code=err.code, message=err.message.in_lang(lang), fields=err.details)


class RosterMessage(_Shape):
    """Everyone the room knows (present, waiting, or gone and able to rejoin) and their state;
    ``recording`` is true while frames are being recorded (``recording_state``: off, on, paused);
    ``open_to_guests``: guests enter without waiting for the host."""

    type: Literal["roster"] = "roster"
    you: str
    people: list[RosterPerson]
    locked_mute: bool
    open_to_guests: bool = False
    recording: bool = False
    recording_state: Recording = Recording.OFF
    capacity: int


class NoticeMessage(_Shape):
    """Something everyone must know, shown prominently (``recording`` starts)."""

    type: Literal["notice"] = "notice"
    message: str


class WaitingMessage(_Shape):
    """The guest waits until the host admits them."""

    type: Literal["waiting"] = "waiting"


class AdmittedMessage(_Shape):
    """The host admitted the guest; ``joined`` follows."""

    type: Literal["admitted"] = "admitted"


class RemovedMessage(_Shape):
    """The host removed this person for the rest of the session; the socket closes after it."""

    type: Literal["removed"] = "removed"
    message: str


class ReplacedMessage(_Shape):
    """The same person connected again elsewhere; this connection ends."""

    type: Literal["replaced"] = "replaced"
    message: str


AnyServerMessage = (
    JoinedMessage
    | ParticipantsMessage
    | AnswerMessage
    | SlotsMessage
    | SlotMessage
    | ErrorMessage
    | RosterMessage
    | NoticeMessage
    | WaitingMessage
    | AdmittedMessage
    | RemovedMessage
    | ReplacedMessage
)
ServerMessage = Annotated[AnyServerMessage, Field(discriminator="type")]
"""A message to a browser, as pydantic reads it back (by its ``type``): what a sink takes."""
SERVER_MESSAGE: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
"""Reads a server message back from its JSON data (across the media worker's process hop)."""

CLOSING: frozenset[str] = frozenset({"removed", "replaced"})
"""Server messages after which the signalling socket is closed by the endpoint."""
