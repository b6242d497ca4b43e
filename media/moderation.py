"""Who is in a room and what they may do: a pure state machine, no I/O.

The notice's meeting guide and remote-audit practice ask for a host who admits guests from a
waiting room, mutes everyone and gives the floor in turn; anyone may raise a hand. Every guest
(whoever came by a link: enterprise, supplier, observer) waits for the host, unless the host has
opened the room to guests; staff enter directly. Muting is
enforced by the server: :meth:`Moderation.forwards_audio` is what the forwarding path asks.
A person is keyed by identity (``user:7`` or ``guest:3``), so joining again replaces the old
connection and a rejoin keeps role, name and mute state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from remote_check.errors import DomainError, Message


class RoomRole(enum.StrEnum):
    HOST = "host"  # 主持人: the coordinator
    EXPERT = "expert"  # 专家
    ENTERPRISE = "enterprise"  # 企业: operates and demonstrates
    SUPPLIER = "supplier"  # 服务商: may add
    OBSERVER = "observer"  # 观察员: auditors, alliance staff


class Recording(enum.StrEnum):
    OFF = "off"
    ON = "on"
    PAUSED = "paused"


RECORDING_STEPS: dict[str, tuple[frozenset[Recording], Recording]] = {
    "start": (frozenset({Recording.OFF}), Recording.ON),
    "pause": (frozenset({Recording.ON}), Recording.PAUSED),
    "resume": (frozenset({Recording.PAUSED}), Recording.ON),
    "stop": (frozenset({Recording.ON, Recording.PAUSED}), Recording.OFF),
}


class Arrival(enum.StrEnum):
    JOINED = "joined"
    WAITING = "waiting"
    REPLACED = "replaced"  # the same person again: the old connection is dropped


@dataclass
class Person:
    identity: str
    name: str  # 单位+姓名
    role: RoomRole
    guest: bool = False  # came by a guest's link
    connection: str | None = None
    admitted: bool = False
    muted: bool = False
    hand_up: bool = False
    has_floor: bool = False
    sharing_screen: bool = False


@dataclass(frozen=True)
class ArrivalResult:
    outcome: Arrival
    person: Person
    dropped_connection: str | None = None


def _refuse(zh: str, en: str, code: str, status: int = 403) -> DomainError:
    return DomainError(Message(zh, en), status, code)


@dataclass
class Moderation:
    """The people of one room and the host's decisions about them."""

    capacity: int = 12
    people: dict[str, Person] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    locked_mute: bool = False  # after "mute all", only the floor unmutes
    open_to_guests: bool = False  # guests enter without waiting for the host
    recording: Recording = Recording.OFF

    def present(self) -> list[Person]:
        return [p for p in self.people.values() if p.connection is not None]

    def arrive(
        self, identity: str, name: str, role: RoomRole, connection: str, *, guest: bool
    ) -> ArrivalResult:
        """Someone opens the room. Guests wait for the host unless the room is open to them; the
        same person again replaces the old link."""
        if identity in self.removed:
            raise _refuse("您已被主持人移出本次会议", "The host removed you from this session", "removed")
        person = self.people.get(identity)
        if person is not None and person.connection is not None:
            dropped = person.connection
            person.connection = connection
            return ArrivalResult(Arrival.REPLACED, person, dropped)
        if len(self.present()) >= self.capacity:
            raise _refuse(
                f"会议室已满（最多 {self.capacity} 人）",
                f"The room is full (at most {self.capacity} people)",
                "room_full",
                409,
            )
        if person is None:
            person = Person(identity, name, role, guest, muted=self.locked_mute)
            self.people[identity] = person
        person.admitted = person.admitted or not person.guest or self.open_to_guests
        person.connection = connection
        return ArrivalResult(Arrival.JOINED if person.admitted else Arrival.WAITING, person)

    def depart(self, identity: str, connection: str) -> bool:
        """A connection closed. Its person keeps role, name and mute state for a rejoin."""
        person = self.people.get(identity)
        if person is None or person.connection != connection:
            return False  # an old connection that was already replaced
        person.connection = None
        person.sharing_screen = False
        return True

    def _host(self, by: str) -> None:
        person = self.people.get(by)
        if person is None or person.role != RoomRole.HOST or person.connection is None:
            raise _refuse("只有主持人可以这样做", "Only the host can do this", "not_host")

    def _person(self, identity: str) -> Person:
        person = self.people.get(identity)
        if person is None:
            raise _refuse("此人不在会议中", "That person is not in the session", "not_present", 404)
        return person

    def waiting(self) -> list[Person]:
        return [p for p in self.present() if not p.admitted]

    def admit(self, by: str, identity: str) -> Person:
        self._host(by)
        person = self._person(identity)
        person.admitted = True
        person.muted = person.muted or self.locked_mute
        return person

    def set_open_to_guests(self, by: str, is_open: bool) -> list[Person]:
        """The host opens the room to guests (they enter without waiting; those waiting now are
        admitted: returned) or closes it again (guests arriving from now on wait)."""
        self._host(by)
        self.open_to_guests = is_open
        if not is_open:
            return []
        return [self.admit(by, person.identity) for person in self.waiting()]

    def remove(self, by: str, identity: str) -> str | None:
        """Send someone away for the rest of the session; returns the connection to close."""
        self._host(by)
        if identity == by:
            raise _refuse("主持人不能移出自己", "The host cannot remove themself", "self_remove", 409)
        person = self._person(identity)
        self.removed.add(identity)
        connection, person.connection = person.connection, None
        del self.people[identity]
        return connection

    def mute(self, by: str, identity: str) -> Person:
        self._host(by)
        person = self._person(identity)
        person.muted = True
        person.has_floor = False
        return person

    def mute_all(self, by: str) -> list[Person]:
        """Everyone but the host is muted and stays muted until given the floor."""
        self._host(by)
        self.locked_mute = True
        changed = []
        for person in self.people.values():
            if person.identity != by:
                person.muted = True
                person.has_floor = False
                changed.append(person)
        return changed

    def give_floor(self, by: str, identity: str) -> Person:
        self._host(by)
        person = self._person(identity)
        person.has_floor = True
        person.muted = False
        person.hand_up = False
        return person

    def take_floor(self, by: str, identity: str) -> Person:
        return self.mute(by, identity)

    def set_own_mute(self, identity: str, muted: bool) -> Person:
        """A person mutes or unmutes themself; after "mute all" only the floor lets them speak."""
        person = self._person(identity)
        if not muted and self.locked_mute and not person.has_floor and person.role != RoomRole.HOST:
            raise _refuse(
                "主持人已全体静音，请举手申请发言",
                "The host muted everyone; raise your hand to speak",
                "muted_by_host",
                409,
            )
        person.muted = muted
        return person

    def unlock(self, by: str) -> None:
        self._host(by)
        self.locked_mute = False

    def record(self, by: str, step: str) -> Recording:
        """The host starts, pauses, resumes or stops the recording (``step``); the new state.
        A step that does not fit the current state is refused (409) and changes nothing."""
        self._host(by)
        allowed, after = RECORDING_STEPS[step]
        if self.recording not in allowed:
            raise _refuse("录制状态不允许此操作", "The recording cannot do that now", "recording_state", 409)
        self.recording = after
        return after

    def continue_recording(self) -> bool:
        """The recording was cut by a server failure and the call goes on: recording starts again
        (no host needed); False when it is on already."""
        if self.recording != Recording.OFF:
            return False
        self.recording = Recording.ON
        return True

    def raise_hand(self, identity: str, up: bool = True) -> Person:
        person = self._person(identity)
        person.hand_up = up
        return person

    def forwards_audio(self, identity: str) -> bool:
        """Whether the server forwards this person's microphone to the others."""
        person = self.people.get(identity)
        return person is not None and person.admitted and person.connection is not None and not person.muted

    def forwards_video(self, identity: str) -> bool:
        person = self.people.get(identity)
        return person is not None and person.admitted and person.connection is not None
