"""A room: who is in it (by :class:`~media.moderation.Moderation`, the single source of
truth of who may do what), their connections, and which feed each receives in which slot.

A *member* is one signalling connection. Admitted members have a :class:`Participant` (a peer
connection); a guest waiting for the host has none, so nothing of the room reaches them and
nothing of theirs is forwarded. A muted person's audio frames are dropped on the forwarding
path (:meth:`Moderation.forwards_audio`, asked per frame: a dictionary lookup).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from media import protocol
from media.config import RoomConfig
from media.events import AuditAction, AuditEvent, RoomEvent
from media.forwarding import Feed
from media.moderation import Arrival, Moderation, Person, Recording, RoomRole
from media.participant import Participant, Sink
from media.protocol import HandMessage, ModerateMessage, OfferMessage, RoomCommand, SelfMuteMessage
from media.recorder import RoomRecorder, next_part, recording_origin
from media.slots import FeedRef, plan_slots, slots_to_ask
from media.stills import STILL_TIMEOUT, STILLS, save_still
from recordings.events import RecordingStarted, RecordingStopped
from remote_check.errors import DomainError, Message

REMOVED = Message("主持人已将您移出本次会议", "The host removed you from this session")
REPLACED = Message(
    "您已在另一个窗口或设备上进入会议，此连接已关闭",
    "You joined from another window or device; this one is closed",
)
RECORDED = Message("本次会议将被录制", "This session will be recorded")
AUDITED: dict[str, AuditAction] = {
    "admit": "room.admit",
    "remove": "room.remove",
    "mute_all": "room.mute_all",
    "open_to_guests": "room.open_to_guests",
    "close_to_guests": "room.close_to_guests",
}
NOT_RECORDING = ("当前未在录制", "The session is not being recorded now", "not_recording")


def _refuse(zh: str, en: str, code: str, status: int = 409) -> DomainError:
    return DomainError(Message(zh, en), status, code)


@dataclass(frozen=True)
class RecordingTime:
    """A moment on a recording's clock: seconds since session time 0, in part ``part``."""

    part: int
    seconds: float


@dataclass(frozen=True)
class Still:
    """A still of the screen share: the JPEG ``file`` (relative to the recordings folder)."""

    part: int
    file: str
    seconds: float


@dataclass
class Member:
    """One signalling connection of a person."""

    connection: str
    identity: str
    alias: str
    lang: str
    sink: Sink
    participant: Participant | None = None


class Room:
    """People in one call. Everything an admitted participant publishes is forwarded to every
    other admitted participant; after each change, every participant's slots are planned again."""

    def __init__(self, room_id: str, config: RoomConfig) -> None:
        self.id = room_id
        self.config = config
        self.moderation = Moderation(capacity=config.max_participants)
        self.members: dict[str, Member] = {}
        self.participants: dict[str, Participant] = {}  # by alias: those in the call
        self.aliases: dict[str, str] = {}  # identity -> the id browsers see
        self.recorder: RoomRecorder | None = None  # while recording (or paused)

    async def join(
        self, identity: str, name: str, role: RoomRole, lang: str, sink: Sink, *, guest: bool = False
    ) -> str:
        """A person connects; the connection's id. Refused (a :class:`DomainError`) when the
        room is full or the person was removed. The same person again replaces their old
        connection, keeping role, name and mute state. A guest waits for the host unless the
        room is open to guests."""
        connection = uuid.uuid4().hex
        arrival = self.moderation.arrive(identity, name, role, connection, guest=guest)
        alias = self.aliases.setdefault(identity, f"p{len(self.aliases) + 1}")
        member = Member(connection, identity, alias, lang, sink)
        self.members[connection] = member
        if arrival.outcome == Arrival.REPLACED and arrival.dropped_connection is not None:
            arrival.person.sharing_screen = False  # until the new connection publishes
            old = self.members.pop(arrival.dropped_connection, None)
            if old is not None:
                old.sink(protocol.ReplacedMessage(message=REPLACED.in_lang(old.lang)))
                await self._drop(old)
        if arrival.person.admitted:
            self._enter(member, arrival.person)
        else:
            sink(protocol.WaitingMessage())
        self._announce()
        return connection

    def _enter(self, member: Member, person: Person) -> None:
        identity = member.identity
        moderation = self.moderation

        def forwards_audio() -> bool:
            return moderation.forwards_audio(identity)

        participant = Participant(member.alias, person.name, member.sink, self.config, forwards_audio)
        if self.recorder is not None:
            participant.send(protocol.NoticeMessage(message=RECORDED.in_lang(member.lang)))
        needed = Counter(feed.kind for feed in self._feeds_for(participant.id))
        participant.asked = slots_to_ask(
            {"audio": needed["audio"], "video": needed["video"]}, self._most_slots()
        )
        member.participant = participant
        self.participants[participant.id] = participant
        participant.send(
            protocol.JoinedMessage(
                id=participant.id,
                room=self.id,
                rtc=self.config.browser_configuration(f"{self.id}-{participant.id}"),
                slots=protocol.SlotCounts(
                    audio=participant.asked.get("audio", 0), video=participant.asked.get("video", 0)
                ),
            )
        )

    def _most_slots(self) -> dict[str, int]:
        """The most a participant can receive: the others' microphones, cameras and one screen."""
        others = self.moderation.capacity - 1
        return {"audio": others, "video": others + 1}

    def member(self, connection: str) -> Member | None:
        """The member of a connection, if it is still in the room."""
        return self.members.get(connection)

    async def offer(self, member: Member, message: OfferMessage) -> None:
        """Negotiate with one participant, then forward what changed."""
        participant = self._admitted(member)
        await participant.negotiate(message)
        person = self.moderation.people.get(member.identity)
        if person is not None:
            person.sharing_screen = any(feed.source == "screen" for feed in participant.published())
        self.rebalance()
        self._tap_feeds()
        self._announce()

    def _admitted(self, member: Member) -> Participant:
        if member.participant is None:
            raise _refuse("请等待主持人准许进入", "Wait until the host lets you in", "waiting", 403)
        return member.participant

    async def command(self, member: Member, message: RoomCommand) -> RoomEvent | None:
        """A moderation command, one's own mute or hand; an event when the command is one the
        log keeps (``AuditEvent("room.admit", "guest:3")``, a recording's start or stop)."""
        self._admitted(member)
        me = member.identity
        event: RoomEvent | None = None
        if isinstance(message, SelfMuteMessage):
            self.moderation.set_own_mute(me, message.muted)
        elif isinstance(message, HandMessage):
            self.moderation.raise_hand(me, message.up)
        else:
            event = await self._moderate(member, message)
        self._announce()
        return event

    async def _moderate(self, member: Member, message: ModerateMessage) -> RoomEvent | None:
        by, action = member.identity, message.action
        moderation = self.moderation
        if action == "mute_all":
            moderation.mute_all(by)
            return AuditEvent(AUDITED[action])
        if action == "unlock":
            moderation.unlock(by)
            return None
        if action in ("open_to_guests", "close_to_guests"):
            for person in moderation.set_open_to_guests(by, action == "open_to_guests"):
                self._let_in(person)
            return AuditEvent(AUDITED[action])
        if action in protocol.RECORDING_ACTIONS:
            return await self._record(member, action.removeprefix("record_"))
        target = self._identity_of(message.target)
        if action == "admit":
            self._let_in(moderation.admit(by, target))
        elif action == "remove":
            connection = moderation.remove(by, target)
            gone = self.members.pop(connection or "", None)
            if gone is not None:
                gone.sink(protocol.RemovedMessage(message=REMOVED.in_lang(gone.lang)))
                await self._drop(gone)
        elif action == "mute":
            moderation.mute(by, target)
        elif action == "give_floor":
            moderation.give_floor(by, target)
        elif action == "take_floor":
            moderation.take_floor(by, target)
        if action in AUDITED:
            return AuditEvent(AUDITED[action], target)
        return None

    def _let_in(self, person: Person) -> None:
        """An admitted person who was waiting enters the call."""
        waiting = self.members.get(person.connection or "")
        if waiting is not None and waiting.participant is None:
            waiting.sink(protocol.AdmittedMessage())
            self._enter(waiting, person)

    async def _record(self, member: Member, step: str) -> RoomEvent:
        folder_root = self.config.recordings_dir
        if folder_root is None:
            raise _refuse("此会议室不能录制", "This room cannot be recorded", "no_recording")
        if step == "start":
            self.moderation.record(member.identity, step)  # refuses a non-host before anything is said
            return await self._begin_recording(folder_root)
        self.moderation.record(member.identity, step)  # refused unless recording (or paused)
        recorder = self.recorder
        if recorder is None:  # the state and the recorder go together (see _begin_recording)
            raise _refuse(*NOT_RECORDING)
        if step == "pause":
            recorder.pause()
            return AuditEvent("recording.pause", f"{self.id}/{recorder.folder.name}")
        if step == "resume":
            recorder.resume()
            return AuditEvent("recording.resume", f"{self.id}/{recorder.folder.name}")
        return await self._stop_recording(recorder)

    async def continue_recording(self) -> RecordingStarted | None:
        """After a server failure cut the recording, the call goes on: record again, in a new part on
        the same clock (everyone is told first); the start event, or None when already recording."""
        folder_root = self.config.recordings_dir
        if folder_root is None or not self.moderation.continue_recording():
            return None
        event = await self._begin_recording(folder_root)
        self._announce()
        return event

    async def _begin_recording(self, folder_root: Path) -> RecordingStarted:
        """Start a part (the moderation's state is on already); back to off when it cannot start."""
        for other in self.members.values():
            if other.participant is not None:
                other.participant.send(protocol.NoticeMessage(message=RECORDED.in_lang(other.lang)))
        try:
            # a check session's room is named by recordings.paths.session_folder_name: its folder
            session_folder = folder_root / self.id
            origin = await asyncio.to_thread(recording_origin, session_folder)
            folder = await asyncio.to_thread(next_part, session_folder)
            started = RoomRecorder(folder, self.id, self.config.recording_key, origin=origin)
            await started.begin()
        except BaseException:
            self.moderation.recording = Recording.OFF
            raise
        self.recorder = started
        self._tap_feeds()
        return RecordingStarted(started.number, f"{self.id}/{folder.name}", started.clock.origin)

    async def _stop_recording(self, recorder: RoomRecorder) -> RecordingStopped:
        """Untap every feed, finish the files and the manifest; the stop's event."""
        self.recorder = None
        self.moderation.recording = Recording.OFF
        self._tap_feeds()
        digest = await recorder.stop()
        return RecordingStopped(recorder.number, f"{self.id}/{recorder.folder.name}", digest)

    def recording_time(self) -> RecordingTime:
        """Now on the recording's clock (for an expert's mark); refused unless recording."""
        recorder = self.recorder
        if recorder is None or recorder.paused:
            raise _refuse(*NOT_RECORDING)
        return RecordingTime(recorder.number, round(recorder.seconds(), 3))

    async def take_still(self) -> Still:
        """A still of the shared screen, as evidence: the screen's next keyframe (asked for now),
        decoded and saved as a JPEG in the part's ``stills`` folder off the event loop."""
        recorder = self.recorder
        if recorder is None or recorder.paused:
            raise _refuse(*NOT_RECORDING)
        screens = [f for p in self.participants.values() for f in p.published() if f.source == "screen"]
        if not screens:
            raise _refuse("没有人在共享屏幕", "Nobody is sharing a screen", "no_screen")
        try:
            async with asyncio.timeout(STILL_TIMEOUT):
                packet, arrived = await screens[0].next_keyframe()
        except TimeoutError:
            raise _refuse(
                "未能取得屏幕画面，请重试", "No picture of the screen arrived; try again", "no_picture"
            ) from None
        seconds = round(recorder.seconds(arrived), 3)
        name = f"{STILLS}/still-{int(seconds * 1000):09d}-{uuid.uuid4().hex[:6]}.jpg"
        await asyncio.to_thread(save_still, packet, recorder.folder / name)
        return Still(recorder.number, f"{self.id}/{recorder.folder.name}/{name}", seconds)

    def _tap_feeds(self) -> None:
        recorder = self.recorder
        for participant in self.participants.values():
            if recorder is not None:
                recorder.name(participant.id, participant.name)
            for feed in participant.feeds.values():
                feed.tap = recorder.tap if recorder is not None else None

    def _identity_of(self, alias: str) -> str:
        for identity, known in self.aliases.items():
            if known == alias and identity in self.moderation.people:
                return identity
        raise _refuse("此人不在会议中", "That person is not in the session", "not_present", 404)

    async def leave(self, connection: str) -> RecordingStopped | None:
        """A connection closed (a no-op when it was replaced or removed already); the
        ``recording.stop`` event when it was the last one and the room was recording."""
        member = self.members.pop(connection, None)
        if member is None:
            return None
        self.moderation.depart(member.identity, connection)
        await self._drop(member)
        stopped = None
        if not self.members and self.recorder is not None:
            stopped = await self._stop_recording(self.recorder)  # the call is over: the files are finished
        self._announce()
        return stopped

    async def _drop(self, member: Member) -> None:
        participant, member.participant = member.participant, None
        if participant is None or self.participants.pop(participant.id, None) is None:
            return
        for feed in participant.feeds.values():
            feed.source = None
        self.rebalance()
        await participant.close()

    def _feeds_for(self, participant_id: str) -> list[Feed]:
        return [
            feed
            for other in self.participants.values()
            if other.id != participant_id
            for feed in other.published()
        ]

    def rebalance(self) -> None:
        """Give every participant the published feeds of the others."""
        for participant in self.participants.values():
            feeds = {feed.id: feed for feed in self._feeds_for(participant.id)}
            plan = plan_slots(participant.slot_states(), [FeedRef(f.id, f.kind) for f in feeds.values()])
            if not plan.changes:
                continue
            for mid in plan.free:
                participant.slots[mid].attach(None)
                participant.send(protocol.SlotMessage(mid=mid, participant=None))
            for mid, feed_id in plan.attach:
                feed = feeds[feed_id]
                participant.slots[mid].attach(feed)
                owner = self.participants[feed.owner]
                participant.send(
                    protocol.SlotMessage(
                        mid=mid, participant=owner.id, name=owner.name, source=feed.source or ""
                    )
                )
            self._ask_for_slots(participant, plan.lacking)

    def _ask_for_slots(self, participant: Participant, lacking: dict[str, int]) -> None:
        if not lacking:
            return
        have = Counter(slot.kind for slot in participant.slots.values())
        needed = {kind: have[kind] + lacking.get(kind, 0) for kind in ("audio", "video")}
        if all(needed[kind] <= participant.asked.get(kind, 0) for kind in needed):
            return
        asked = slots_to_ask(needed, self._most_slots())
        participant.asked = {kind: max(asked[kind], participant.asked.get(kind, 0)) for kind in asked}
        participant.send(
            protocol.SlotsMessage(audio=participant.asked["audio"], video=participant.asked["video"])
        )

    def people(self) -> list[protocol.RosterPerson]:
        """The roster: people present, and admitted people who may rejoin."""
        return [
            protocol.RosterPerson(
                id=self.aliases[p.identity],
                name=p.name,
                role=p.role,
                admitted=p.admitted,
                muted=p.muted,
                hand_up=p.hand_up,
                has_floor=p.has_floor,
                sharing_screen=p.sharing_screen,
                connected=p.connection is not None,
            )
            for p in self.moderation.people.values()
            if p.connection is not None or p.admitted
        ]

    def _announce(self) -> None:
        people = self.people()
        present = protocol.ParticipantsMessage(participants=[p.info() for p in self.participants.values()])
        for participant in self.participants.values():
            participant.send(present)
            participant.send(
                protocol.RosterMessage(
                    you=participant.id,
                    people=people,
                    locked_mute=self.moderation.locked_mute,
                    capacity=self.moderation.capacity,
                    open_to_guests=self.moderation.open_to_guests,
                    recording=self.moderation.recording == Recording.ON,
                    recording_state=self.moderation.recording,
                )
            )

    async def close(self) -> None:
        """Close every participant's connection."""
        for connection in list(self.members):
            await self.leave(connection)
