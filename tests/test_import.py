"""Importing voucher projects: all or nothing, every problem reported, re-import changes nothing.

The service runs on SQLite and PostgreSQL; the command line on a SQLite file made by
``remote-check db upgrade``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.cli import main
from remote_check.clock import SHANGHAI
from remote_check.database import make_reader, transaction
from remote_check.errors import DomainError
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.service import ImportSummary
from remote_check.imports.template import CSV_NAME, HERE, XLSX_NAME, template_csv, template_xlsx
from remote_check.imports.workflow import Databases, import_upload
from remote_check.programme import credit_code
from remote_check.programme.models import (
    Enterprise,
    Product,
    ProductModule,
    ProjectStatus,
    Supplier,
    SupplierKind,
    VoucherProject,
)
from tests.conftest import Database
from tests.import_files import FOSHAN, csv_file, found, row, xlsx_file

NOW = dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)
TABLES = (VoucherProject, Enterprise, Supplier, Product, ProductModule, AuditEntry)


async def run(db: Database, data: bytes, name: str = "projects.csv", **kw: Any) -> ImportSummary:
    reader = UploadReader()
    try:
        return await import_upload(
            reader,
            Databases(write=db.factory, read=make_reader(db.engine)),
            name,
            data,
            actor=Actor("user:1", "4419"),
            now=NOW,
            **kw,
        )
    finally:
        await reader.close()


async def refused(db: Database, data: bytes, name: str = "projects.csv", **kw: Any) -> list[dict[str, str]]:
    with pytest.raises(DomainError) as caught:
        await run(db, data, name, **kw)
    assert caught.value.code == "import_invalid"
    assert caught.value.status == 422
    return caught.value.details


async def counts(db: Database) -> dict[str, int]:
    async with db.factory() as session:
        return {
            t.__tablename__: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in TABLES
        }


async def dump(db: Database) -> list[tuple[Any, ...]]:
    async with db.factory() as session:
        projects = (await session.scalars(select(VoucherProject).order_by(VoucherProject.code))).all()
        return [
            (p.code, p.city_code, p.enterprise_id, p.product_id, p.contract_amount, p.imported_at, p.status)
            for p in projects
        ]


EMPTY = {t.__tablename__: 0 for t in TABLES}
REFUSED = {**EMPTY, "audit_log": 1}  # nothing stored but the refusal's audit entry


async def test_the_xlsx_template_stores_projects_with_their_parties_and_one_audit_entry(db: Database) -> None:
    summary = await run(db, template_xlsx(), "voucher-projects-template.xlsx")
    assert (summary.created, summary.skipped, summary.enterprises_created, summary.products_created) == (
        2,
        0,
        2,
        2,
    )
    assert await counts(db) == {
        "voucher_projects": 2,
        "enterprises": 2,
        "suppliers": 2,
        "products": 2,
        "product_modules": 8,
        "audit_log": 1,
    }
    async with db.factory() as session:
        foshan = (
            await session.scalars(select(VoucherProject).where(VoucherProject.code == "FS-2019-0002"))
        ).one()
        supplier = await session.get(Supplier, foshan.supplier_id)
        modules = (await session.scalars(select(ProductModule.name).order_by(ProductModule.id))).all()
        entry = (await session.scalars(select(AuditEntry))).one()
    assert foshan.city_code == "4406"
    assert foshan.status == ProjectStatus.REGISTERED
    assert (foshan.contract_amount, foshan.voucher_amount, foshan.amount_paid) == (
        Decimal("45000.00"),
        Decimal("13500.00"),
        Decimal("42000.00"),
    )
    assert foshan.redemption_requested_at == dt.datetime(2020, 1, 6, 15, 0, tzinfo=SHANGHAI)
    assert foshan.imported_at == NOW
    assert foshan.is_key_project
    assert not foshan.is_cluster
    assert supplier is not None
    assert supplier.kind == SupplierKind.SERVICE_PROVIDER
    assert supplier.listed
    assert modules[:4] == ["生产排程", "设备联网", "质量追溯", "报表看板"]
    assert entry.action == "project.import"
    assert entry.details["created"] == 2
    assert entry.details["file"] == "voucher-projects-template.xlsx"


async def test_reimporting_the_same_file_changes_nothing(db: Database) -> None:
    data = csv_file([row(1), row(2), row(3, FOSHAN)])
    await run(db, data)
    before, tables = await dump(db), await counts(db)
    again = await run(db, data)
    assert (again.created, again.skipped) == (0, 3)
    assert await dump(db) == before
    assert {k: v for k, v in (await counts(db)).items() if k != "audit_log"} == {
        k: v for k, v in tables.items() if k != "audit_log"
    }
    # The same rows typed into a workbook are recognised too.
    assert (await run(db, xlsx_file([row(1), row(2)]), "same.xlsx")).skipped == 2


async def test_one_bad_row_among_good_ones_stores_nothing(db: Database) -> None:
    rows = [row(n) for n in range(1, 6)] + [row(6, voucher_amount="90000")]
    details = await refused(db, csv_file(rows))
    assert found(details) == {(7, "voucher_amount", "voucher_above_contract")}
    assert await counts(db) == REFUSED


async def test_every_kind_of_bad_row_is_reported_with_row_column_and_reason(db: Database) -> None:
    rows = [
        row(1),
        row(2, enterprise_name=""),
        row(3, enterprise_credit_code="91441900MA4UH3QK2A"),
        row(4, voucher_amount="80000.01"),
        row(5, amount_paid="90000"),
        row(6, city="火星"),
        row(1, product_name="另一个产品"),
        row(8, contract_date="2019-02-30", supplier_kind="代理商", is_cluster="也许"),
    ]
    details = await refused(db, csv_file(rows))
    assert found(details) == {
        (3, "enterprise_name", "missing"),
        (4, "enterprise_credit_code", "bad_credit_code"),
        (5, "voucher_amount", "voucher_above_contract"),
        (6, "amount_paid", "paid_above_contract"),
        (7, "city", "unknown_city"),
        (8, "project_code", "duplicate_in_file"),
        (9, "supplier_kind", "bad_choice"),
        (9, "contract_date", "bad_date"),
        (9, "is_cluster", "bad_flag"),
    }
    by_row = {int(d["row"]): d for d in details}
    assert by_row[4]["column_zh"] == "企业统一社会信用代码"
    assert by_row[4]["zh"] == "统一社会信用代码校验位错误：第 18 位应为 N，实际为 A"
    assert by_row[5]["en"] == "the voucher (80000.01 yuan) is above the contract amount (80000.00 yuan)"
    assert by_row[8]["zh"] == "项目编号与第 2 行重复"
    assert [int(d["row"]) for d in details] == sorted(int(d["row"]) for d in details)
    assert await counts(db) == REFUSED


async def test_missing_and_unknown_columns_are_reported_on_the_header_row(db: Database) -> None:
    data = csv_file([row(1)]).replace("合同金额（元）".encode(), "合同价".encode())
    details = await refused(db, data)
    assert found(details) == {(1, "contract_amount", "missing_column"), (1, "", "unknown_column")}


async def test_a_project_code_stored_with_different_data_is_refused(db: Database) -> None:
    await run(db, csv_file([row(1)]))
    details = await refused(db, csv_file([row(1, contract_amount="81000", amount_paid="81000"), row(2)]))
    assert found(details) == {(2, "project_code", "exists_different")}
    assert "合同金额（元）、已支付金额（元）" in details[0]["zh"]
    assert await counts(db) == {**EMPTY, "voucher_projects": 1, "enterprises": 1, "suppliers": 1,
                                "products": 1, "product_modules": 4, "audit_log": 2}  # fmt: skip


async def test_known_parties_are_reused_and_must_match_what_is_stored(db: Database) -> None:
    await run(db, csv_file([row(1)]))
    reused = await run(db, csv_file([row(2)]))
    assert (reused.created, reused.enterprises_reused, reused.suppliers_reused, reused.products_reused) == (
        1,
        1,
        1,
        1,
    )
    assert (await counts(db))["enterprises"] == 1
    renamed = await refused(db, csv_file([row(3, enterprise_name="东莞另一家公司")]))
    assert found(renamed) == {(2, "enterprise_name", "enterprise_mismatch")}
    assert "东莞市长安精密五金有限公司" in renamed[0]["zh"]
    other_kind = await refused(db, csv_file([row(4, supplier_kind="服务商", product_name="新产品")]))
    assert found(other_kind) == {(2, "supplier_kind", "supplier_mismatch")}
    repriced = await refused(db, csv_file([row(5, listed_price="65000", modules="生产排程；设备联网")]))
    assert found(repriced) == {(2, "listed_price", "product_mismatch"), (2, "modules", "product_mismatch")}
    assert (await counts(db))["voucher_projects"] == 2


async def _stored_parties(db: Database, *, barred_until: dt.date, listed: bool) -> None:
    async with transaction(db.factory) as session:
        session.add(
            Enterprise(name=row(1)["enterprise_name"], credit_code=row(1)["enterprise_credit_code"],
                       city_code="4419", barred_until=barred_until)
        )  # fmt: skip
        session.add(
            Supplier(name=FOSHAN["supplier_name"], credit_code=FOSHAN["supplier_credit_code"],
                     kind=SupplierKind.SERVICE_PROVIDER, teams=1, listed=listed)
        )  # fmt: skip


async def test_a_barred_enterprise_and_a_delisted_supplier_are_refused(db: Database) -> None:
    await _stored_parties(db, barred_until=NOW.date(), listed=False)
    details = await refused(db, csv_file([row(1), row(2, FOSHAN)]))
    assert found(details) == {
        (2, "enterprise_credit_code", "enterprise_barred"),
        (3, "supplier_credit_code", "supplier_delisted"),
    }
    assert "2020-04-10" in details[0]["zh"]


async def test_a_bar_that_ended_yesterday_no_longer_applies(db: Database) -> None:
    await _stored_parties(db, barred_until=NOW.date() - dt.timedelta(days=1), listed=True)
    assert (await run(db, csv_file([row(1), row(2, FOSHAN)]))).created == 2


async def test_a_city_restriction_and_cities_outside_the_round(db: Database) -> None:
    shenzhen = row(
        3, city="深圳", enterprise_credit_code=credit_code.generate(random.Random(3), division="440300")
    )
    details = await refused(db, csv_file([row(1), row(2, FOSHAN), shenzhen]), restrict_city="4419")
    assert found(details) == {(3, "city", "other_city"), (4, "city", "other_city")}
    assert details[0]["en"] == "you may import only your own city's projects"
    details = await refused(db, csv_file([{**shenzhen, "city": "Shenzhen"}]))
    assert found(details) == {(2, "city", "city_not_in_round")}


async def test_a_coordinators_import_does_not_reveal_another_citys_data(db: Database) -> None:
    await run(db, csv_file([row(1, FOSHAN)]))  # Foshan's project T-0001 and its enterprise
    foshan_enterprise = FOSHAN["enterprise_name"]
    probes = [
        row(1, contract_amount="1.00", amount_paid="1.00", voucher_amount="1.00"),  # Foshan's project code
        row(2, enterprise_credit_code=FOSHAN["enterprise_credit_code"], enterprise_name="随便写的名字"),
    ]
    details = await refused(db, csv_file(probes), restrict_city="4419")
    assert found(details) == {
        (2, "project_code", "project_other_city"),
        (3, "enterprise_credit_code", "enterprise_other_city"),
    }
    assert [(d["zh"], d["en"]) for d in details] == [
        ("该项目编号属于其他城市", "this project code belongs to another city"),
        ("该统一社会信用代码属于其他城市的企业", "this credit code belongs to an enterprise of another city"),
    ]
    shown = repr(details)
    for stored in (foshan_enterprise, "佛山", "Foshan", "4406", "合同金额", "Contract amount"):
        assert stored not in shown
    # The province (no city restriction) is told exactly what differs.
    unrestricted = await refused(db, csv_file(probes))
    assert found(unrestricted) == {
        (2, "project_code", "exists_different"),
        (3, "enterprise_name", "enterprise_mismatch"),
        (3, "city", "enterprise_mismatch"),
    }
    assert any(foshan_enterprise in d["zh"] for d in unrestricted)


async def test_gb18030_csv_with_english_headers_and_a_dry_run(db: Database) -> None:
    data = csv_file(
        [row(1, city="Dongguan"), row(2, FOSHAN, city="佛山市")], english=True, encoding="gb18030"
    )
    checked = await run(db, data, dry_run=True)
    assert (checked.created, checked.dry_run) == (2, True)
    assert await counts(db) == {**EMPTY, "audit_log": 1}
    async with db.factory() as session:
        entry = (await session.scalars(select(AuditEntry))).one()
    assert (entry.action, entry.actor, entry.city_code) == ("project.import_dry_run", "user:1", "4419")
    assert (entry.details["rows"], entry.details["created"]) == (2, 2)
    assert "佛山" not in repr(entry.details)  # counts, no row data
    assert (await run(db, data)).created == 2


async def test_an_xlsx_with_typed_cells(db: Database) -> None:
    typed: dict[str, object] = {
        **row(1),
        "contract_date": dt.datetime(2019, 9, 12),  # noqa: DTZ001 (a spreadsheet has no zones)
        "redemption_requested_at": dt.datetime(2019, 12, 20, 10, 30),  # noqa: DTZ001
        "contract_amount": 80000,
        "voucher_amount": 24000.0,
        "amount_paid": 1234.56 * 3,  # a formula's float: 3703.6799999999998
        "supplier_teams": 2,
    }
    await run(db, xlsx_file([typed]), "typed.xlsx")
    async with db.factory() as session:
        project = (await session.scalars(select(VoucherProject))).one()
    assert project.redemption_requested_at == dt.datetime(2019, 12, 20, 2, 30, tzinfo=dt.UTC)
    assert project.amount_paid == Decimal("3703.68")


def test_the_shipped_templates_are_what_the_code_makes() -> None:
    assert (HERE / CSV_NAME).read_bytes() == template_csv()
    assert (HERE / XLSX_NAME).read_bytes() == template_xlsx()


def test_the_documentation_names_every_column() -> None:
    from remote_check.imports.columns import COLUMNS

    text = (Path(__file__).parents[1] / "docs" / "import.md").read_text(encoding="utf-8")
    assert [c.zh for c in COLUMNS if c.zh not in text] == []
    assert [c.en for c in COLUMNS if c.en not in text] == []


# The command line, on a SQLite file made by `remote-check db upgrade`.


def _cli(tmp_path: Path, *args: str) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.sqlite3'}"
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), "--database-url", url, *args])


def _projects(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "rc.sqlite3") as conn:
        return int(conn.execute("SELECT count(*) FROM voucher_projects").fetchone()[0])


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    result = _cli(tmp_path, "db", "upgrade")
    assert result.exit_code == 0, result.output
    return tmp_path


def test_cli_imports_then_skips_on_reimport(upgraded: Path) -> None:
    path = HERE / XLSX_NAME
    dry = _cli(upgraded, "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "将新增项目 2 个" in dry.output
    assert _projects(upgraded) == 0
    first = _cli(upgraded, "import", str(path))
    assert first.exit_code == 0, first.output
    assert "新增项目 2 个" in first.output
    assert "added 2 projects" in first.output
    again = _cli(upgraded, "import", str(HERE / CSV_NAME))
    assert "skipped 2 already imported" in again.output
    assert _projects(upgraded) == 2


def test_cli_prints_every_problem_and_exits_2_having_stored_nothing(upgraded: Path) -> None:
    path = upgraded / "bad.csv"
    path.write_bytes(csv_file([row(1), row(2, voucher_amount="90000"), row(3, city="Atlantis")]))
    result = _cli(upgraded, "import", str(path))
    assert result.exit_code == 2
    assert (
        "第 3 行 [服务券金额（元）] 服务券金额 90000.00 元超过合同金额 80000.00 元 / row 3 "
        "[Voucher amount (yuan)] the voucher (90000.00 yuan) is above the contract amount (80000.00 yuan)"
    ) in result.output
    assert "第 4 行 [城市] 未知城市：Atlantis / row 4 [City] unknown city: Atlantis" in result.output
    assert _projects(upgraded) == 0
    with sqlite3.connect(upgraded / "rc.sqlite3") as conn:
        audited = conn.execute("SELECT actor, action, details FROM audit_log").fetchall()
    assert [(actor, action) for actor, action, _ in audited] == [("cli", "project.import_refused")]
    assert json.loads(audited[0][2]) == {
        "file": "bad.csv",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "dry_run": False,
        "rows": 3,
        "problems": 2,
        "by_code": {"unknown_city": 1, "voucher_above_contract": 1},
    }


def test_cli_refuses_a_file_it_cannot_read(upgraded: Path) -> None:
    path = upgraded / "projects.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    result = _cli(upgraded, "import", str(path))
    assert result.exit_code == 2
    assert "无法读取 XLSX 文件" in result.output
