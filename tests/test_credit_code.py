"""The unified social credit code check (GB 32100-2015)."""

from __future__ import annotations

import random

import pytest

from remote_check.programme import credit_code as cc

# Published codes of real companies and the standard's own example.
REAL = ["91350100M000100Y43", "91440300708461136T", "914403001922038216", "91110000100010433L"]


@pytest.mark.parametrize("code", REAL)
def test_published_codes_are_valid(code: str) -> None:
    assert cc.is_valid(code)
    assert cc.check_digit(code[:17]) == code[17]


def test_one_changed_character_is_caught() -> None:
    code = REAL[1]
    for position in range(18):
        for replacement in "0A":
            changed = code[:position] + replacement + code[position + 1 :]
            if changed != code:
                assert not cc.is_valid(changed), changed


def test_swapped_neighbours_are_caught() -> None:
    code = REAL[0]
    swapped = code[:3] + code[4] + code[3] + code[5:]
    assert swapped != code
    assert cc.problem(swapped).kind == "check_digit"  # type: ignore[union-attr]


def test_reasons_name_what_is_wrong_in_both_languages() -> None:
    short = cc.problem("91440300708461136")
    assert short is not None
    assert short.kind == "length"
    assert "18" in short.message.zh
    assert "17" in short.message.en
    letters = cc.problem("91440300708461136I")
    assert letters is not None
    assert letters.kind == "character"
    assert "I" in letters.message.zh
    digit = cc.problem("91440300708461136A")
    assert digit is not None
    assert digit.kind == "check_digit"
    assert "T" in digit.message.zh
    assert "should be T" in digit.message.en


def test_normalising_accepts_lower_case_spaces_and_full_width() -> None:
    assert cc.normalise(" 9144 0300 7084 6113 6t ") == REAL[1]
    assert cc.is_valid("９１４４０３００７０８４６１１３６Ｔ")


def test_generated_codes_are_valid_reproducible_and_distinct() -> None:
    first = [cc.generate(random.Random(7), division="441900") for _ in range(3)]
    again = [cc.generate(random.Random(7), division="441900") for _ in range(3)]
    assert first == again
    rng = random.Random(42)
    many = {cc.generate(rng) for _ in range(2000)}
    assert len(many) == 2000
    assert all(cc.is_valid(code) and code.startswith("91440100") for code in many)


def test_check_digit_needs_17_characters() -> None:
    with pytest.raises(ValueError, match="17"):
        cc.check_digit("123")
