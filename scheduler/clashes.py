"""The refusals of a booking, worded for people: every clash and every conflict of interest."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from remote_check.clock import format_local, local
from remote_check.errors import Conflict, DomainError, Message
from remote_check.experts.models import Expert
from remote_check.programme.cities import BY_CODE
from scheduler.booking import Clash, ResourceKind
from scheduler.models import CheckSession, Hold

if TYPE_CHECKING:
    from scheduler.rules import Parties

ROLE_NAMES = {"supplier": ("服务商", "the supplier"), "enterprise": ("企业", "the enterprise")}


def _city(code: str) -> tuple[str, str]:
    city = BY_CODE.get(code)
    return (city.name_zh, city.name_en) if city else (code, code)


def _when(check: CheckSession | Hold) -> str:
    return f"{format_local(check.starts_at)}–{format_local(check.ends_at)[-5:]}"


def clash_error(
    clashes: Sequence[Clash],
    sessions: dict[int, CheckSession],
    parties: Parties,
    experts: Sequence[Expert],
    visible: Collection[int] = frozenset(),
    holds: Mapping[int, Hold] | None = None,
) -> Conflict:
    """One 409 naming every clash: who is busy, where (which city) and when.

    A blocking session is named by its id only if it is in ``visible`` (the caller's scope):
    staggering needs the city and the time, not the ids of other cities' sessions. A time held
    by another coordinator (``holds``) is named as held, with when the hold lapses.
    """
    holds = holds or {}
    names = {e.id: e.name for e in experts}
    zh_parts: list[str] = []
    en_parts: list[str] = []
    details: list[dict[str, str]] = []
    for clash in clashes:
        demand = clash.demand
        seen: set[int] = set()
        where_zh: list[str] = []
        where_en: list[str] = []
        for held in clash.blocking:
            if held.hold_id is not None:
                hold = holds[held.hold_id]
                city_zh, city_en = _city(hold.city_code)
                until = format_local(hold.expires_at)[-5:]
                where_zh.append(f"{city_zh} {_when(hold)}（另一协调员暂留至 {until}）")
                where_en.append(f"{city_en} {_when(hold)} (held by another coordinator until {until})")
                details.append(
                    {
                        "kind": demand.kind.value,
                        "party_id": str(demand.party_id),
                        "resource": held.resource,
                        "city_code": hold.city_code,
                        "starts_at": local(hold.starts_at).isoformat(),
                        "ends_at": local(hold.ends_at).isoformat(),
                        "held_until": local(hold.expires_at).isoformat(),
                    }
                )
                continue
            if held.session_id in seen:
                continue
            seen.add(held.session_id)
            other = sessions[held.session_id]
            city_zh, city_en = _city(other.city_code)
            detail = {
                "kind": demand.kind.value,
                "party_id": str(demand.party_id),
                "resource": held.resource,
                "city_code": other.city_code,
                "starts_at": local(other.starts_at).isoformat(),
                "ends_at": local(other.ends_at).isoformat(),
            }
            if other.id in visible:
                where_zh.append(f"{city_zh} {_when(other)}（会议 #{other.id}）")
                where_en.append(f"{city_en} {_when(other)} (session #{other.id})")
                detail["session_id"] = str(other.id)
            else:
                where_zh.append(f"{city_zh} {_when(other)}")
                where_en.append(f"{city_en} {_when(other)}")
            details.append(detail)
        at_zh, at_en = "；".join(where_zh), "; ".join(where_en)
        if demand.kind == ResourceKind.SUPPLIER:
            name = parties.supplier.name
            teams = len(demand.options)
            minutes = int(demand.buffer.total_seconds() // 60)
            gap_zh = f"（服务商两场核查之间须间隔 {minutes} 分钟）" if minutes else ""
            gap_en = f" (a supplier needs {minutes} minutes between two sessions)" if minutes else ""
            if teams > 1:
                zh_parts.append(f"服务商“{name}”的 {teams} 个演示团队在该时段均有核查{gap_zh}：{at_zh}")
                en_parts.append(f"all {teams} teams of supplier {name} are busy{gap_en}: {at_en}")
            else:
                zh_parts.append(f"服务商“{name}”在该时段已有核查{gap_zh}：{at_zh}")
                en_parts.append(f"supplier {name} is busy{gap_en}: {at_en}")
        elif demand.kind == ResourceKind.ROOM:
            rooms = len(demand.options)
            city_zh, city_en = _city(str(demand.party_id))
            if rooms > 1:
                zh_parts.append(f"{city_zh}的 {rooms} 个会议室在该时段均已占用：{at_zh}")
                en_parts.append(f"the city's {rooms} rooms are all taken at that time in {city_en}: {at_en}")
            else:
                zh_parts.append(f"{city_zh}仅有的 1 个会议室在该时段已占用：{at_zh}")
                en_parts.append(f"the city's only room is taken at that time in {city_en}: {at_en}")
        elif demand.kind == ResourceKind.ENTERPRISE:
            name = parties.enterprise.name
            zh_parts.append(f"企业“{name}”在该时段已有核查：{at_zh}")
            en_parts.append(f"enterprise {name} is already booked: {at_en}")
        else:
            name = names.get(int(demand.party_id), str(demand.party_id))
            zh_parts.append(f"专家“{name}”在该时段已有核查：{at_zh}")
            en_parts.append(f"expert {name} is already booked: {at_en}")
    return Conflict(
        Message(
            "时间冲突，未预订。" + "；".join(zh_parts), "Time clash, nothing booked: " + "; ".join(en_parts)
        ),
        details,
    )


def coi_error(tied: Sequence[tuple[Expert, list[str]]], parties: Parties) -> DomainError:
    """A 422 naming each expert who is tied to the project's supplier or enterprise."""
    zh_parts: list[str] = []
    en_parts: list[str] = []
    details: list[dict[str, str]] = []
    for expert, roles in tied:
        for role in roles:
            party = parties.supplier if role == "supplier" else parties.enterprise
            role_zh, role_en = ROLE_NAMES[role]
            zh_parts.append(f"专家“{expert.name}”与{role_zh}“{party.name}”存在关联")
            en_parts.append(f"expert {expert.name} is tied to {role_en} {party.name}")
            details.append(
                {
                    "field": "panel",
                    "expert_id": str(expert.id),
                    "party": role,
                    "credit_code": party.credit_code,
                }
            )
    return DomainError(
        Message("利益冲突，需回避：" + "；".join(zh_parts), "Conflict of interest: " + "; ".join(en_parts)),
        422,
        "conflict_of_interest",
        details,
    )
