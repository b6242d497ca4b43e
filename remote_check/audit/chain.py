"""The keyed hash chain of the audit log, as pure functions: entries in, findings out.

Each entry's hash is an HMAC-SHA256, under the audit key kept in the data folder (never in the
database), of its own fields and the hash of the entry before it. An altered, removed or inserted
entry breaks the chain at a place :func:`verify` names; and someone who can write the database
but has not the key cannot recompute the hashes after an edit (a plain SHA-256 chain would let
them). Removing the newest entries and moving the head back needs an anchor outside the database:
the signed checkpoints of :mod:`remote_check.audit.checkpoints`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
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


def key_id(key: bytes) -> str:
    """A short public name of an audit key (to tell "another key" from "edited"), not the key."""
    return hashlib.sha256(b"remote-check audit key id\0" + key).hexdigest()[:16]


def entry_hash(
    key: bytes,
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
    """HMAC-SHA256 under ``key`` of the canonical JSON of an entry's fields and its predecessor's hash."""
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
    return hmac.new(key, encoded.encode("utf-8"), hashlib.sha256).hexdigest()


def _altered(first: int, last: int) -> Finding:
    if first == last:
        return Finding(
            first,
            "altered",
            f"第 {first} 条记录的内容已被修改（带密钥的哈希不符）",
            f"entry {first} was altered (its keyed hash does not match its content)",
        )
    return Finding(
        first,
        "altered",
        f"第 {first}-{last} 条记录已被修改或重写（带密钥的哈希均不符；或本服务器的审计密钥不是写入时的密钥）",
        f"entries {first}-{last} were altered or rewritten (their keyed hashes do not match; "
        "or this server's audit key is not the one they were written with)",
    )


def verify(entries: Iterable[ChainEntry], head_seq: int, head_hash: str, key: bytes) -> list[Finding]:
    """Check ``entries`` (in ``seq`` order) against each other, the head and ``key``; return every
    break. A run of consecutive entries whose keyed hashes fail is one finding."""
    findings: list[Finding] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    run: list[int] = []  # the current run of entries with a failing keyed hash

    def close_run() -> None:
        if run:
            findings.append(_altered(run[0], run[-1]))
            run.clear()

    for entry in entries:
        recomputed = entry_hash(
            key,
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            city_code=entry.city_code,
            action=entry.action,
            target=entry.target,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        bad = recomputed != entry.hash
        if run and (not bad or entry.seq != run[-1] + 1):
            close_run()
        if bad:
            run.append(entry.seq)
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
        if not bad and entry.prev_hash != prev_hash and entry.seq == expected_seq:
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
    close_run()
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
