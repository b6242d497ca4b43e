"""The conclusion form (核查意见表): its contents and the PDF, read back by extracting its text."""

from __future__ import annotations

import io

from pypdf import PdfReader

from recordings.conclusion import load_form
from recordings.conclusion_pdf import conclusion_pdf
from remote_check.checklist.models import Standard
from remote_check.database import transaction
from remote_check.outcomes.kinds import Outcome
from scheduler import verdicts
from tests.conftest import Database
from tests.scheduling_factories import local
from tests.verdict_world import PROJECT_NAME, verdict_world

NOW = local(9, 10)
BASE = "https://check.example.cn"


def _links(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                found.append(str(action["/URI"]))
    return found


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_the_confirmed_form_has_everything_and_its_pdf_reads_back(db: Database) -> None:
    async with transaction(db.factory) as session:
        w = await verdict_world(session)
    for n, expert in enumerate(w.experts):
        async with transaction(db.factory) as session:
            finance = (Standard.FINANCE, n != 2, "" if n != 2 else "发票日期晚于付款")
            opinions = [(Standard.IMPLEMENTATION, True, ""), finance, (Standard.FUNCTION, True, "")]
            await verdicts.give_opinions(session, expert, w.project_id, opinions, now=NOW)
    async with transaction(db.factory) as session:
        await verdicts.propose(
            session,
            w.experts[0],
            w.project_id,
            outcome=Outcome.QUALIFIED,
            violation=None,
            description="",
            reasons="多数专家认为三项标准均通过",
            now=NOW,
        )
    async with transaction(db.factory) as session:
        await verdicts.confirm(session, w.coordinator, w.project_id, now=NOW)
    async with transaction(db.factory) as session:
        form = await load_form(session, w.coordinator, w.project_id, BASE)
    assert form.final
    assert form.outcome == "合格"
    assert form.enterprise == PROJECT_NAME
    assert form.confirmed_by == "gz.coord"
    by_code = {item.code: item for item in form.items}
    assert [m.text for m in by_code["A1"].moments] == ["03:12"]
    assert by_code["A1"].moments[0].url == f"{BASE}/sessions/{w.session_id}/replay?t=192"
    assert by_code["B1"].moments == []
    assert [e.name for e in form.experts] == ["李组长", "王专家", "陈专家"]
    assert form.experts[2].opinions[1].passed == "不通过"

    data = conclusion_pdf(form, NOW)
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "核查意见表" in text
    assert PROJECT_NAME in text
    assert "合格" in text
    assert "发票日期晚于付款" in text
    assert "李组长" in text
    assert "2020-04-09 10:00" in text  # the confirmation, China time
    assert f"{BASE}/sessions/{w.session_id}/replay?t=192" in _links(data)


async def test_a_no_show_form_needs_no_opinions(db: Database) -> None:
    async with transaction(db.factory) as session:
        w = await verdict_world(session)
    async with transaction(db.factory) as session:
        await verdicts.confirm_no_show(session, w.coordinator, w.no_show_session_id, note="", now=NOW)
    async with transaction(db.factory) as session:
        form = await load_form(session, w.coordinator, w.no_show_project_id, BASE)
    assert form.no_show
    assert form.outcome == "不合格"
    text = _text(conclusion_pdf(form, NOW))
    assert "不合格" in text
    assert "按照抽查不通过处理" in text
