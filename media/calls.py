"""The messages between the web process and a media worker (``media.workers`` and
``media.worker``): one typed request per :class:`~media.host.RoomHost` call, one typed reply per
kind of result, each side's messages a tagged union, encoded and decoded here only.

Frames are length-prefixed JSON (a 4-byte big-endian length, then UTF-8 JSON)::

    web process to worker:  Hello (first, once), then Request {"id": 7, "call": {"method": "join", ...}}
    worker to web process:  Ready (after the Hello), Answer {"id": 7, "reply": {"reply": "joined", ...}},
                            Failure {"id": 7, "error": {...}}, SinkFrame {"sink": 3, "message": {...}}

A :class:`JoinCall` names its sink by a number the web process chose; what the room gives that
sink comes back as a :class:`SinkFrame` for the participant's socket in the web process.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from media.events import RoomEvent
from media.host import RoomSummary
from media.moderation import RoomRole
from media.protocol import HandMessage, ModerateMessage, OfferMessage, SelfMuteMessage, ServerMessage
from media.room import RecordingTime, Still
from recordings.events import RecordingStarted, RecordingStopped
from remote_check.errors import DomainError, Message
from remote_check.settings import Settings

HEADER = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- the calls: one per RoomHost method ------------------------------------------------------------


class JoinCall(_Wire):
    """:meth:`~media.host.RoomHost.join`; ``sink``: the number of the participant's sink."""

    method: Literal["join"] = "join"
    room_id: str
    identity: str
    name: str
    role: RoomRole
    lang: str
    sink: int
    guest: bool = False


class SignalCall(_Wire):
    """:meth:`~media.host.RoomHost.signal`."""

    method: Literal["signal"] = "signal"
    room_id: str
    connection: str
    message: OfferMessage


class CommandCall(_Wire):
    """:meth:`~media.host.RoomHost.command`."""

    method: Literal["command"] = "command"
    room_id: str
    connection: str
    message: Annotated[ModerateMessage | SelfMuteMessage | HandMessage, Field(discriminator="type")]


class LeaveCall(_Wire):
    """:meth:`~media.host.RoomHost.leave`."""

    method: Literal["leave"] = "leave"
    room_id: str
    connection: str


class RecordingTimeCall(_Wire):
    """:meth:`~media.host.RoomHost.recording_time`."""

    method: Literal["recording_time"] = "recording_time"
    room_id: str


class ContinueRecordingCall(_Wire):
    """:meth:`~media.host.RoomHost.continue_recording`."""

    method: Literal["continue_recording"] = "continue_recording"
    room_id: str


class TakeStillCall(_Wire):
    """:meth:`~media.host.RoomHost.take_still`."""

    method: Literal["take_still"] = "take_still"
    room_id: str


class SummaryCall(_Wire):
    """:meth:`~media.host.LocalRoomHost.summary` (monitoring)."""

    method: Literal["summary"] = "summary"


class CloseCall(_Wire):
    """:meth:`~media.host.RoomHost.close`: end every call of the worker."""

    method: Literal["close"] = "close"


RoomCall = (
    JoinCall
    | SignalCall
    | CommandCall
    | LeaveCall
    | RecordingTimeCall
    | ContinueRecordingCall
    | TakeStillCall
    | SummaryCall
    | CloseCall
)
"""A call about one room has a ``room_id``; :class:`SummaryCall` and :class:`CloseCall` go to every worker."""


# -- the replies: one per kind of result -----------------------------------------------------------


class Joined(_Wire):
    """The connection's id."""

    reply: Literal["joined"] = "joined"
    connection: str


class Done(_Wire):
    """A call with no result (``signal``, ``close``)."""

    reply: Literal["done"] = "done"


class Evented(_Wire):
    """The event of a ``command``, when it has one."""

    reply: Literal["evented"] = "evented"
    event: RoomEvent | None


class Started(_Wire):
    """The recording's new part, after ``continue_recording``."""

    reply: Literal["started"] = "started"
    event: RecordingStarted | None


class Stopped(_Wire):
    """The recording's stop, after the last one's ``leave``."""

    reply: Literal["stopped"] = "stopped"
    event: RecordingStopped | None


class Timed(_Wire):
    """Now on the room's recording clock."""

    reply: Literal["timed"] = "timed"
    time: RecordingTime


class Stilled(_Wire):
    """The still taken."""

    reply: Literal["stilled"] = "stilled"
    still: Still


class Summarised(_Wire):
    """What each room of the worker is doing."""

    reply: Literal["summarised"] = "summarised"
    rooms: list[RoomSummary]


Reply = Joined | Done | Evented | Started | Stopped | Timed | Stilled | Summarised
ReplyT = TypeVar("ReplyT", bound=Reply)
"""The reply a call answers with."""


# -- the envelopes ---------------------------------------------------------------------------------


class Hello(_Wire):
    """The first message to a worker: its settings and the ``module:function`` making its local host."""

    kind: Literal["hello"] = "hello"
    settings: Settings
    factory: str


class Request(_Wire):
    """A call, numbered so that its answer finds it."""

    kind: Literal["request"] = "request"
    id: int
    call: Annotated[RoomCall, Field(discriminator="method")]


class Ready(_Wire):
    """The worker is set up: its process id."""

    kind: Literal["ready"] = "ready"
    pid: int


class Answer(_Wire):
    """A call's result."""

    kind: Literal["answer"] = "answer"
    id: int
    reply: Annotated[Reply, Field(discriminator="reply")]


class DomainFailure(_Wire):
    """A refusal of the room (a :class:`DomainError`), with what the browser is told."""

    failure: Literal["domain"] = "domain"
    zh: str
    en: str
    status: int
    code: str
    details: list[dict[str, str]]

    @classmethod
    def of(cls, exc: DomainError) -> DomainFailure:
        """The refusal as data."""
        message = exc.message
        return cls(zh=message.zh, en=message.en, status=exc.status, code=exc.code, details=exc.details)

    def rebuild(self) -> Exception:
        """The refusal, raised again in the web process."""
        return DomainError(Message(self.zh, self.en), self.status, self.code, self.details)


class InternalFailure(_Wire):
    """Any other failure: only its description crosses."""

    failure: Literal["internal"] = "internal"
    description: str

    def rebuild(self) -> Exception:
        """The failure, raised again in the web process."""
        return RuntimeError(f"media worker: {self.description}")


class Failure(_Wire):
    """A call that failed."""

    kind: Literal["failure"] = "failure"
    id: int
    error: Annotated[DomainFailure | InternalFailure, Field(discriminator="failure")]

    @classmethod
    def of(cls, call_id: int, exc: BaseException) -> Failure:
        """The failure of call ``call_id``; a refusal keeps its message, status, code and details."""
        if isinstance(exc, DomainError):
            return cls(id=call_id, error=DomainFailure.of(exc))
        return cls(id=call_id, error=InternalFailure(description=f"{type(exc).__name__}: {exc}"))


class SinkFrame(_Wire):
    """A message of the room for one participant's browser (by the sink's number)."""

    kind: Literal["sink"] = "sink"
    sink: int
    message: ServerMessage


ToWorker = Annotated[Hello | Request, Field(discriminator="kind")]
FromWorker = Annotated[Ready | Answer | Failure | SinkFrame, Field(discriminator="kind")]
TO_WORKER: TypeAdapter[Hello | Request] = TypeAdapter(ToWorker)
FROM_WORKER: TypeAdapter[Ready | Answer | Failure | SinkFrame] = TypeAdapter(FromWorker)


def encode(message: Hello | Request | Ready | Answer | Failure | SinkFrame) -> bytes:
    """One message as a length-prefixed JSON frame."""
    body = message.model_dump_json().encode()
    if len(body) > MAX_FRAME:
        raise ValueError(f"message of {len(body)} bytes is too large")
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's JSON, or ``None`` when the other side closed the socket."""
    try:
        size = int.from_bytes(await reader.readexactly(HEADER.size), "big")
        if size > MAX_FRAME:
            raise ValueError(f"frame of {size} bytes is too large")
        return await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


async def read_to_worker(reader: asyncio.StreamReader) -> Hello | Request | None:
    """The web process's next message (in the worker), or ``None`` when the socket closed."""
    frame = await read_frame(reader)
    return None if frame is None else TO_WORKER.validate_json(frame)


async def read_from_worker(reader: asyncio.StreamReader) -> Ready | Answer | Failure | SinkFrame | None:
    """The worker's next message (in the web process), or ``None`` when the socket closed."""
    frame = await read_frame(reader)
    return None if frame is None else FROM_WORKER.validate_json(frame)
