"""Signed checkpoints of the audit log, kept outside the database: pure functions.

A keyed chain stops someone without the key from recomputing hashes after an edit, but not from
cutting the newest entries and moving ``audit_head`` back. So the server writes, every few minutes
while the log grows and at shutdown, a checkpoint: how many entries the log had, the head's hash,
the time, and the hash of the checkpoint before it, signed (HMAC-SHA256) with the audit key, as
CloudTrail's digest files and Certificate Transparency's signed tree heads do. A checkpoint is one
JSON line: ``{"checkpoint": {...}, "signature": "<hex>"}``; the signature covers the canonical JSON
of ``checkpoint``. :func:`check` compares the checkpoints with what the database holds now and names
truncation, rewriting, and forged, edited or removed checkpoints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from remote_check.audit.chain import GENESIS_HASH, Finding, canonical_time, key_id
from remote_check.clock import local

FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    """What the log was at ``at``: ``entries`` entries, the last one's hash ``head``; ``prev`` is
    the SHA-256 of the previous checkpoint's line (:data:`GENESIS_HASH` for the first)."""

    entries: int
    head: str
    at: dt.datetime
    prev: str
    key_id: str

    def body(self) -> dict[str, Any]:
        """The signed object."""
        return {
            "format": FORMAT,
            "entries": self.entries,
            "head": self.head,
            "at": canonical_time(self.at),
            "prev": self.prev,
            "key_id": self.key_id,
        }


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sign(body: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def line_hash(line: str | None) -> str:
    """What the next checkpoint names as ``prev``: the SHA-256 of this checkpoint's line."""
    return GENESIS_HASH if line is None else hashlib.sha256(line.strip().encode()).hexdigest()


def make_line(entries: int, head: str, at: dt.datetime, previous_line: str | None, key: bytes) -> str:
    """The signed line of a new checkpoint following ``previous_line`` (no newline)."""
    body = Checkpoint(entries, head, at, line_hash(previous_line), key_id(key)).body()
    return json.dumps(
        {"checkpoint": body, "signature": _sign(body, key)}, sort_keys=True, separators=(",", ":")
    )


@dataclass(frozen=True)
class Read:
    """One line of the checkpoint file as read: its checkpoint (``None``: unreadable) and whether
    its signature holds under our key."""

    number: int  # 1-based line number
    line: str
    checkpoint: Checkpoint | None
    signed: bool


def read_line(number: int, line: str, key: bytes) -> Read:
    """Parse and check the signature of one checkpoint line."""
    try:
        document = json.loads(line)
        body = document["checkpoint"]
        signature = document["signature"]
        at = dt.datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
        checkpoint = Checkpoint(
            int(body["entries"]), str(body["head"]), at, str(body["prev"]), str(body["key_id"])
        )
    except (ValueError, KeyError, TypeError):
        return Read(number, line, None, False)
    signed = isinstance(signature, str) and hmac.compare_digest(_sign(body, key), signature)
    return Read(number, line, checkpoint, signed)


def when(at: dt.datetime) -> str:
    """A checkpoint's time as the findings show it (China Standard Time)."""
    return local(at).strftime("%Y-%m-%d %H:%M:%S")


def _bad(read: Read, key: bytes) -> Finding | None:
    """The finding for a line that is unreadable or not signed with ``key``."""
    cp = read.checkpoint
    if cp is None:
        return Finding(
            0,
            "bad-checkpoint",
            f"检查点文件第 {read.number} 行无法读取",
            f"checkpoint line {read.number} is unreadable",
        )
    if read.signed:
        return None
    if cp.key_id != key_id(key):
        return Finding(
            cp.entries,
            "bad-checkpoint",
            f"{when(cp.at)} 的检查点由另一把密钥签名（密钥标识 {cp.key_id}，本服务器为 {key_id(key)}）："
            "这是写入日志时的数据文件夹吗？",
            f"the checkpoint of {when(cp.at)} was signed with another key (key id {cp.key_id}, "
            f"this server's is {key_id(key)}): is this the data folder the log was written with?",
        )
    return Finding(
        cp.entries,
        "bad-checkpoint",
        f"{when(cp.at)} 的检查点签名无效（伪造或被改动）",
        f"the checkpoint of {when(cp.at)} has a bad signature (forged or edited)",
    )


def check(lines: Sequence[str], key: bytes, hashes: Mapping[int, str], count: int) -> list[Finding]:
    """Check the checkpoint ``lines`` (oldest first) against the database: ``hashes`` maps each
    entry's number to its stored hash, ``count`` is how many entries the database holds.

    Named: a line unreadable, forged or signed with another key; a checkpoint that does not follow
    the one before (one removed, inserted or edited); the newest checkpoint that saw more entries
    than there are (truncation); the oldest whose head differs from the database's entry of that
    number (rewriting).
    """
    findings: list[Finding] = []
    good: list[Checkpoint] = []
    previous: str | None = None
    for number, line in enumerate(lines, start=1):
        read = read_line(number, line, key)
        bad = _bad(read, key)
        if bad is not None:
            findings.append(bad)
        elif read.checkpoint is not None:
            if read.checkpoint.prev != line_hash(previous):
                findings.append(
                    Finding(
                        read.checkpoint.entries,
                        "bad-checkpoint",
                        f"{when(read.checkpoint.at)} 的检查点与前一个不衔接（有检查点被删除、插入或改动）",
                        f"the checkpoint of {when(read.checkpoint.at)} does not follow the one before it "
                        "(a checkpoint was removed, inserted or edited)",
                    )
                )
            good.append(read.checkpoint)
        previous = line
    beyond = [cp for cp in good if cp.entries > count]
    if beyond:
        cp = max(beyond, key=lambda c: (c.entries, c.at))
        findings.append(
            Finding(
                cp.entries,
                "truncated",
                f"{when(cp.at)} 的检查点记录了 {cp.entries} 条记录（链头 {cp.head[:16]}…），"
                f"数据库只有 {count} 条：最新的记录已被删除",
                f"the checkpoint of {when(cp.at)} saw {cp.entries} entries with head {cp.head[:16]}…; "
                f"the database has only {count}: the newest entries were removed",
            )
        )
    differing = [cp for cp in good if 0 < cp.entries <= count and hashes.get(cp.entries) != cp.head]
    if differing:
        cp = min(differing, key=lambda c: (c.entries, c.at))
        now = hashes.get(cp.entries)
        findings.append(
            Finding(
                cp.entries,
                "rewritten",
                f"{when(cp.at)} 的检查点的链头（第 {cp.entries} 条，{cp.head[:16]}…）"
                f"与数据库中第 {cp.entries} 条（{(now or '缺失')[:16]}…）不同："
                f"第 {cp.entries} 条及之前的记录被重写",
                f"the head at the checkpoint of {when(cp.at)} (entry {cp.entries}, {cp.head[:16]}…) differs "
                f"from the database's entry {cp.entries} ({(now or 'missing')[:16]}…): "
                f"entries up to {cp.entries} were rewritten",
            )
        )
    return findings
