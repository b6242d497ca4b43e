"""The notice's three standards have one name each (zh and en), wherever they are shown."""

from __future__ import annotations

from remote_check.accounts.models import Role
from remote_check.checklist.labels import STANDARD_LABELS, STANDARD_SHORT
from remote_check.checklist.models import Standard
from remote_check.database import transaction
from tests.factories import add_project, add_supplier, publish_sample
from tests.web_helpers import WebServer


def test_every_standard_has_a_name_and_a_short_name_in_both_languages() -> None:
    assert set(STANDARD_LABELS) == set(STANDARD_SHORT) == set(Standard)
    assert all(m.zh and m.en for m in [*STANDARD_LABELS.values(), *STANDARD_SHORT.values()])
    assert STANDARD_LABELS[Standard.FINANCE].zh == "财务规范"


async def test_a_sampled_projects_page_heads_its_checklist_with_those_names(server: WebServer) -> None:
    now = server.clock.now()
    async with transaction(server.db.factory) as session:
        project = await add_project(session, await add_supplier(session))
        await publish_sample(session, "4419", "labels", now=now)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    for lang in ("zh", "en"):
        page = await (await admin.get(f"/projects/{project.id}?lang={lang}")).text()
        for standard in Standard:
            assert STANDARD_LABELS[standard].in_lang(lang) in page, (lang, standard)
            assert STANDARD_SHORT[standard].in_lang(lang) in page, (lang, standard)
