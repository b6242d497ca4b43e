"""Files built to exhaust the server (XLSX bombs) are refused, by a limited child process, without
touching the server's memory or holding up anyone else; a binary file is "not a CSV or XLSX".

The bombs are made in the test (``tests/bombs.py``): one of a megabyte holding a gigabyte shared
string, one of 300 KB holding twenty million blank rows. Each check is also shown alone, with the
limits before it loosened, down to the child's own memory and CPU limits.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from remote_check.accounts.models import Role
from remote_check.cli import main
from remote_check.errors import DomainError
from remote_check.imports.limits import MB, Limits
from remote_check.imports.sandbox import UploadReader
from remote_check.programme.models import VoucherProject
from tests.bombs import blank_rows_bomb, many_strings, shared_string_bomb, sheet_of, workbook
from tests.test_import_web import upload
from tests.web_helpers import PASSWORD, WebServer, csrf_from_html
from web.uploads import IMPORT_READER

GIGABYTE_STRING = 1024 * MB
TWENTY_MILLION = 20_000_000 - 20_000_000 % 4096
LOOSE = 10**12  # a limit loosened so that the next one is what stops the file


async def refusal(data: bytes, limits: Limits | None = None, name: str = "bomb.xlsx") -> DomainError:
    reader = UploadReader(limits)
    try:
        with pytest.raises(DomainError) as caught:
            await reader.read(name, data)
    finally:
        await reader.close()
    return caught.value


async def test_a_gigabyte_shared_string_is_refused_from_the_zip_directory() -> None:
    bomb = shared_string_bomb(GIGABYTE_STRING)
    assert len(bomb) < 2 * MB
    error = await refusal(bomb)
    assert (error.status, error.code) == (413, "too_large")
    assert error.message.en == (
        "The XLSX file expands too far: xl/sharedStrings.xml is 1,024 MB uncompressed (at most 100 MB)"
    )
    assert error.message.zh.startswith("XLSX 文件解压后过大：xl/sharedStrings.xml 有 1,024 MB")


async def test_twenty_million_blank_rows_are_refused_from_the_zip_directory() -> None:
    bomb = blank_rows_bomb(TWENTY_MILLION)
    assert len(bomb) < 400 * 1024
    error = await refusal(bomb)
    assert (error.status, error.code) == (413, "too_large")
    assert "xl/worksheets/sheet1.xml" in error.message.en


async def test_a_part_compressed_like_no_real_workbook_is_refused_as_a_bomb() -> None:
    error = await refusal(blank_rows_bomb(10_000_000 - 10_000_000 % 4096))  # 57 MB: under the size limit
    assert (error.status, error.code) == (422, "bad_file")
    assert "refused as a possible zip bomb" in error.message.en
    assert "疑似压缩炸弹" in error.message.zh


async def test_rows_are_counted_as_they_stream_and_reading_stops_past_the_limit() -> None:
    error = await refusal(blank_rows_bomb(200_704), Limits(max_ratio=LOOSE))
    assert (error.status, error.code) == (422, "bad_file")
    assert error.message.en.startswith("The sheet goes beyond row 50,000 (blank rows count too)")


async def test_a_value_past_the_column_limit_is_refused() -> None:
    error = await refusal(workbook(sheet_of([["项目编号", *[""] * 99, "x"]])))
    assert (error.status, error.message.en) == (422, "Row 1 has more than 100 columns")


async def test_shared_strings_are_capped_in_length_and_number() -> None:
    too_long = await refusal(shared_string_bomb(1 * MB), Limits(max_ratio=LOOSE))
    assert too_long.message.en == "A cell of the XLSX file holds more than 32,767 characters"
    too_many = await refusal(many_strings(1_000_001), Limits(max_ratio=LOOSE))
    assert too_many.message.en == (
        "The XLSX file's shared strings exceed the limit (1,000,000 strings, 40,000,000 characters in all)"
    )
    too_much = await refusal(shared_string_bomb(2 * MB), Limits(max_ratio=LOOSE, max_string_chars=LOOSE,
                                                                 max_strings_chars=MB))  # fmt: skip
    assert too_much.message.en == too_many.message.en.replace("40,000,000", "1,048,576")


async def test_what_the_checks_let_through_meets_the_childs_memory_limit() -> None:
    """Every check loosened: the gigabyte string reaches the parser, in a child limited to 400 MB."""
    loose = Limits(max_part_bytes=LOOSE, max_total_bytes=LOOSE, max_ratio=LOOSE, max_string_chars=LOOSE,
                   max_strings_chars=LOOSE, memory_bytes=400 * MB)  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = await refusal(shared_string_bomb(GIGABYTE_STRING), loose)
    assert (error.status, error.code) == (422, "bad_file")
    assert (
        error.message.en == "Reading the file needs more memory than allowed; split it and import the parts"
    )
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # this process never held the gigabyte


async def test_what_the_checks_let_through_meets_the_childs_cpu_limit() -> None:
    loose = Limits(max_part_bytes=LOOSE, max_total_bytes=LOOSE, max_ratio=LOOSE, max_sheet_rows=10**9,
                   cpu_seconds=1)  # fmt: skip
    error = await refusal(blank_rows_bomb(TWENTY_MILLION), loose)
    assert error.message.en == "Reading the file took too long; check it, or split it and import the parts"


async def _stored(server: WebServer) -> int:
    async with server.db.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(VoucherProject)) or 0)


async def test_the_api_and_the_page_refuse_a_bomb_in_the_users_language(sqlite_server: WebServer) -> None:
    server = sqlite_server
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    browser = await server.signed_in("dg.coord")
    bomb = shared_string_bomb(GIGABYTE_STRING)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    zh = await browser.post("/api/imports", data=upload(bomb, "projects.xlsx"))
    assert zh.status == 413
    assert (await zh.json())["error"]["message"].startswith("XLSX 文件解压后过大")
    en = await browser.post("/api/imports?lang=en", data=upload(bomb, "projects.xlsx"))
    assert (await en.json())["error"]["message"].startswith("The XLSX file expands too far")
    token = csrf_from_html(await (await browser.get("/imports")).text())
    page = await browser.post("/imports", data=upload(bomb, "projects.xlsx", csrf_token=token))
    assert page.status == 413
    assert "The XLSX file expands too far" in await page.text()
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 200
    assert await _stored(server) == 0


async def test_bombs_being_read_in_parallel_never_hold_up_a_log_in(sqlite_server: WebServer) -> None:
    """Six bombs at once: the children reading them are stopped mid-file (SIGSTOP), the rest
    queue; meanwhile a log-in and another request are answered. Then the children go on."""
    server = sqlite_server
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    await server.add_user("dg.coord", Role.CITY_COORDINATOR, "4419")
    admin = await server.signed_in("admin")
    reader = server.test_server.app[IMPORT_READER]
    held: list[int] = []
    all_held = asyncio.Event()

    def hold(pid: int) -> None:
        os.kill(pid, signal.SIGSTOP)
        held.append(pid)
        if len(held) == reader.workers:
            all_held.set()

    reader.started = hold
    bomb = blank_rows_bomb(TWENTY_MILLION)
    bombs = [
        asyncio.ensure_future(admin.post("/api/imports", data=upload(bomb, f"b{n}.xlsx"))) for n in range(6)
    ]
    holding = asyncio.ensure_future(all_held.wait())
    await asyncio.wait([holding, *bombs], return_when=asyncio.FIRST_COMPLETED)
    assert all_held.is_set(), [b.result().status for b in bombs if b.done()]
    reader.started = None
    login = await server.browser().post("/api/login", json={"username": "dg.coord", "password": PASSWORD})
    projects = await admin.get("/api/projects")
    assert (login.status, projects.status) == (200, 200)
    assert not any(b.done() for b in bombs)  # every bomb was still being read (or waiting)
    for pid in held:
        os.kill(pid, signal.SIGCONT)
    answers = await asyncio.gather(*bombs)
    assert [a.status for a in answers] == [413] * 6
    assert await _stored(server) == 0


def test_the_command_line_refuses_a_bomb_and_a_binary_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rc.sqlite3'}"
    cli = ["--data-dir", str(tmp_path), "--database-url", url]
    assert CliRunner().invoke(main, [*cli, "db", "upgrade"]).exit_code == 0
    bomb = tmp_path / "projects.xlsx"
    bomb.write_bytes(blank_rows_bomb(TWENTY_MILLION))
    result = CliRunner().invoke(main, [*cli, "import", str(bomb)])
    assert result.exit_code == 2
    assert "XLSX 文件解压后过大" in result.output
    assert "The XLSX file expands too far" in result.output
    binary = tmp_path / "projects"
    binary.write_bytes(bytes(range(256)) * 64)
    result = CliRunner().invoke(main, [*cli, "import", str(binary)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "错误 / error: 这不是 CSV 或 XLSX 文件（内容是二进制数据），请上传 .xlsx 或 .csv 文件 / "
        "This is not a CSV or XLSX file (its content is binary); upload an .xlsx or .csv file"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_binary_file_is_not_a_csv_or_xlsx_once(sqlite_server: WebServer, lang: str) -> None:
    await sqlite_server.add_user("admin", Role.PROVINCE_ADMIN)
    browser = await sqlite_server.signed_in("admin")
    for name, data in (("projects.csv", bytes(1000)), ("projects", bytes(range(256)) * 64)):
        response = await browser.post(f"/api/imports?lang={lang}", data=upload(data, name))
        assert response.status == 422
        error = (await response.json())["error"]
        assert (error["code"], error["fields"]) == ("bad_file", [])
        expected = "This is not a CSV or XLSX file" if lang == "en" else "这不是 CSV 或 XLSX 文件"
        assert error["message"].startswith(expected)
