"""Reading import files and cells as people fill them in (pure: no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError
from remote_check.imports.cells import Bad, read_cell
from remote_check.imports.columns import BY_FIELD
from remote_check.imports.readers import parse
from remote_check.imports.validate import validate
from tests.import_files import FOSHAN, csv_file, found, row


def cell(fieldname: str, value: object) -> object:
    return read_cell(value, BY_FIELD[fieldname])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("written", "amount"),
    [("80000", "80000.00"), ("80,000.50", "80000.50"), ("¥ 1,234.5 元", "1234.50"), ("８０００", "8000.00")],
)
def test_amounts_as_people_write_them(written: str, amount: str) -> None:
    assert cell("contract_amount", written) == Decimal(amount)


@pytest.mark.parametrize("written", ["8万", "-5", "100.001", "0", "abc"])
def test_amounts_that_are_refused(written: str) -> None:
    with pytest.raises(Bad) as bad:
        cell("contract_amount", written)
    assert bad.value.code == "bad_amount"


def test_nothing_paid_yet_is_allowed() -> None:
    assert cell("amount_paid", "0") == Decimal("0.00")


@pytest.mark.parametrize("written", ["2019-09-12", "2019/9/12", "2019.9.12", "2019年9月12日", "20190912"])
def test_dates(written: str) -> None:
    assert cell("contract_date", written) == dt.date(2019, 9, 12)


@pytest.mark.parametrize(("written", "code"), [("2019-02-30", "bad_date"), ("12/09/2019", "bad_date")])
def test_bad_dates(written: str, code: str) -> None:
    with pytest.raises(Bad) as bad:
        cell("contract_date", written)
    assert bad.value.code == code


def test_times_are_china_time_unless_an_offset_is_given() -> None:
    china = dt.datetime(2020, 1, 6, 15, 0, tzinfo=SHANGHAI)
    assert cell("redemption_requested_at", "2020-01-06 15:00") == china
    assert cell("redemption_requested_at", "2020/1/6 15:00:00") == china
    assert cell("redemption_requested_at", "2020-01-06T07:00:00Z") == china
    assert cell("redemption_requested_at", "2020-01-06 15:00+08:00") == china
    assert cell("redemption_requested_at", dt.datetime(2020, 1, 6, 15, 0)) == china  # noqa: DTZ001
    with pytest.raises(Bad):
        cell("redemption_requested_at", "下午三点")


def test_flags_and_defaults() -> None:
    assert cell("is_key_project", "是") is True
    assert cell("is_key_project", "No") is False
    assert cell("is_key_project", "") is False
    assert cell("has_usage_logs", None) is True
    assert cell("price_unit", " ") == "套"


def test_cities_by_code_and_by_name() -> None:
    assert {cell("city", v) for v in ["4419", "东莞", "东莞市", "Dongguan", "dongguan city", "441900"]} == {
        "4419"
    }


def test_modules_split_on_either_semicolon() -> None:
    assert cell("modules", "排程；设备联网; 质量追溯 ;") == ("排程", "设备联网", "质量追溯")
    with pytest.raises(Bad) as bad:
        cell("modules", "排程；排程")
    assert bad.value.code == "duplicate_module"


def test_one_enterprise_described_two_ways_in_a_file() -> None:
    rows = [row(1), row(2, enterprise_name="别的名字"), row(3, FOSHAN), row(4, FOSHAN, listed_price="1")]
    result = validate(parse("p.csv", csv_file(rows)))
    assert found([p.detail() for p in result.problems]) == {
        (3, "enterprise_name", "conflict_in_file"),
        (5, "listed_price", "conflict_in_file"),
    }
    assert [r.row for r in result.records] == [2, 4]


def test_the_redemption_cannot_precede_the_contract_and_parties_differ() -> None:
    same = row(1)["enterprise_credit_code"]
    rows = [row(1, redemption_requested_at="2019-09-11 23:59"), row(2, supplier_credit_code=same)]
    result = validate(parse("p.csv", csv_file(rows)))
    assert found([p.detail() for p in result.problems]) == {
        (2, "redemption_requested_at", "redemption_before_contract"),
        (3, "supplier_credit_code", "same_party"),
    }


def test_blank_rows_are_skipped_but_keep_their_numbers() -> None:
    data = csv_file([row(1)]) + b",,,\r\n\r\n" + csv_file([row(2, voucher_amount="x")]).split(b"\r\n", 1)[1]
    result = validate(parse("p.csv", data))
    assert found([p.detail() for p in result.problems]) == {(5, "voucher_amount", "bad_amount")}


def test_a_value_under_no_header_is_a_problem() -> None:
    data = csv_file([row(1)]).rstrip(b"\r\n") + b",surplus\r\n"
    result = validate(parse("p.csv", data))
    assert found([p.detail() for p in result.problems]) == {(2, "", "extra_value")}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("p.xls", b"\xd0\xcf\x11\xe0 old excel", "不支持旧版 .xls 文件"),
        ("p.pdf", b"%PDF-1.4", "不支持的文件类型 .pdf"),
        ("p.csv", b"", "文件是空的"),
        ("p.csv", b"\xff\xfe\x00\xd8", "无法识别 CSV 文件的编码"),
        ("p.csv", bytes(1000), "这不是 CSV 或 XLSX 文件"),  # NULs decode as text: once 18 problems
        ("p", bytes(range(128)) * 8, "这不是 CSV 或 XLSX 文件"),
        ("p.txt", "项目编号\x01\x02\x03\x04".encode() * 100, "这不是 CSV 或 XLSX 文件"),
    ],
)
def test_files_that_cannot_be_read(name: str, data: bytes, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse(name, data)
    assert caught.value.status == 422
    assert caught.value.message.zh.startswith(message)
