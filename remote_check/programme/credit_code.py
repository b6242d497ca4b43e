"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, last one a check digit.

Layout: 1 registration authority, 2 organisation category, 3-8 administrative division (GB/T 2260),
9-17 organisation code (GB 11714), 18 check digit. The alphabet has 31 characters: the digits and
the capital letters without I, O, Z, S and V. Character ``i`` (0-based) weighs ``3**i mod 31``; the
check digit is the character worth ``(31 - sum mod 31) mod 31``.

Pure: no I/O. :func:`generate` makes valid codes from a seeded :class:`random.Random`, for tests
and demo data.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from remote_check.errors import Message

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {char: value for value, char in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18

# GB 11714 organisation code check (characters 9-17 of the credit code).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class CreditCodeProblem:
    """Why a code is not valid: ``length``, ``character`` or ``check_digit``."""

    kind: str
    message: Message


def normalise(code: str) -> str:
    """Full-width to half-width, surrounding and inner spaces removed, upper case."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 (which must be in :data:`ALPHABET`)."""
    if len(first17) != LENGTH - 1:
        raise ValueError("the check digit is computed over exactly 17 characters")
    total = sum(VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> CreditCodeProblem | None:
    """What is wrong with ``code`` (already :func:`normalise`-d), or ``None`` if it is valid."""
    if len(code) != LENGTH:
        return CreditCodeProblem(
            "length",
            Message(
                f"统一社会信用代码应为 18 位，实际 {len(code)} 位",
                f"a credit code has 18 characters, not {len(code)}",
            ),
        )
    bad = [char for char in code if char not in VALUES]
    if bad:
        shown = "、".join(dict.fromkeys(bad))
        return CreditCodeProblem(
            "character",
            Message(
                f"统一社会信用代码含有不允许的字符：{shown}（不使用 I、O、Z、S、V）",
                f"a credit code may not contain {', '.join(dict.fromkeys(bad))} (I, O, Z, S, V are unused)",
            ),
        )
    expected = check_digit(code[:17])
    if code[17] != expected:
        return CreditCodeProblem(
            "check_digit",
            Message(
                f"统一社会信用代码校验位错误：第 18 位应为 {expected}，实际为 {code[17]}",
                f"wrong check digit in the credit code: the 18th character should be {expected}, "
                f"not {code[17]}",
            ),
        )
    return None


def is_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed credit code with a correct check digit (after normalising)."""
    return problem(normalise(code)) is None


def _org_code(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(char) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def generate(rng: random.Random, *, division: str = "440100", category: str = "91") -> str:
    """A valid code: ``category`` (``91`` a company), ``division`` (6 digits), then a random
    organisation code with its own GB 11714 check and the GB 32100 check digit."""
    if len(category) != 2 or len(division) != 6 or not division.isdigit():
        raise ValueError("category has 2 characters and division 6 digits")
    first17 = category + division + _org_code(rng)
    return first17 + check_digit(first17)
