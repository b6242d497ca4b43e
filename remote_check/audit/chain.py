"""The hash chain of the audit log, as pure functions: entries in, findings out.

Each entry's hash covers its own fields and the hash of the entry before it, so an
altered, removed or inserted entry breaks the chain at a place :func:`verify` names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainEntry:
    seq: int
    at: dt.datetime
    actor: str
    city_code: str | None
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Finding:
    """One break in the chain."""

    seq: int
    kind: str  # altered | removed | inserted | truncated
    message_zh: str
    message_en: str


def canonical_time(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be aware")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    city_code: str | None,
    action: str,
    target: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical JSON of an entry's fields and its predecessor's hash."""
    body = {
        "seq": seq,
        "at": canonical_time(at),
        "actor": actor,
        "city": city_code,
        "action": action,
        "target": target,
        "details": details,
        "prev": prev_hash,
    }
    encoded = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def verify(entries: Iterable[ChainEntry], head_seq: int, head_hash: str) -> list[Finding]:
    """Check ``entries`` (in ``seq`` order) against each other and the head; return every break."""
    findings: list[Finding] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for entry in entries:
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            city_code=entry.city_code,
            action=entry.action,
            target=entry.target,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if entry.seq > expected_seq:
            missing = (
                f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}-{entry.seq - 1}"
            )
            findings.append(
                Finding(entry.seq, "removed", f"第 {missing} 条记录已被删除", f"entry {missing} was removed")
            )
        elif entry.seq < expected_seq:
            findings.append(
                Finding(
                    entry.seq,
                    "inserted",
                    f"第 {entry.seq} 条记录重复或被插入",
                    f"entry {entry.seq} is duplicated or inserted",
                )
            )
        if recomputed != entry.hash:
            findings.append(
                Finding(
                    entry.seq,
                    "altered",
                    f"第 {entry.seq} 条记录的内容已被修改",
                    f"entry {entry.seq} was altered (its hash does not match its content)",
                )
            )
        elif entry.prev_hash != prev_hash and entry.seq == expected_seq:
            findings.append(
                Finding(
                    entry.seq,
                    "inserted",
                    f"第 {entry.seq} 条记录与前一条不衔接（插入或替换）",
                    f"entry {entry.seq} does not follow the one before (inserted or replaced)",
                )
            )
        prev_hash = entry.hash
        expected_seq = max(expected_seq, entry.seq + 1)
    last_seq = expected_seq - 1
    if head_seq > last_seq:
        gone = f"{last_seq + 1}" if head_seq == last_seq + 1 else f"{last_seq + 1}-{head_seq}"
        findings.append(
            Finding(
                head_seq, "truncated", f"末尾第 {gone} 条记录已被删除", f"last entries {gone} were removed"
            )
        )
    elif head_seq == last_seq and head_hash != prev_hash and last_seq > 0:
        findings.append(
            Finding(
                last_seq,
                "altered",
                f"第 {last_seq} 条记录与链头不符",
                f"entry {last_seq} does not match the head",
            )
        )
    elif head_seq < last_seq:
        findings.append(
            Finding(
                head_seq + 1,
                "inserted",
                f"第 {head_seq + 1} 条之后的记录是追加插入的",
                f"entries after {head_seq} were appended outside the log",
            )
        )
    return findings
