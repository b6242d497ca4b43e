"""Settings, money, time and project statuses: the rules every other part relies on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from remote_check.clock import SHANGHAI, format_local
from remote_check.errors import DomainError
from remote_check.programme.models import ProjectStatus as S
from remote_check.programme.status import can_move, check_move
from remote_check.settings import load_settings
from tests.conftest import Database


def test_settings_come_from_options_over_environment_over_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "rc.toml"
    toml.write_text(
        'port = 9000\nhost = "192.0.2.1"\nmax_room_size = 8\n[sampling]\nprice_over_listed = "2.0"\n'
    )
    monkeypatch.setenv("RC_PORT", "9100")
    settings = load_settings(toml, host=None, data_dir=tmp_path)
    assert settings.port == 9100  # the environment wins over the file
    assert settings.host == "192.0.2.1"
    assert settings.max_room_size == 8
    assert settings.sampling.price_over_listed == Decimal("2.0")
    assert load_settings(toml, port=9200, data_dir=tmp_path).port == 9200  # an option wins over both


def test_default_database_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.db_url == f"sqlite+aiosqlite:///{tmp_path / 'remote-check.sqlite3'}"


def test_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = settings.secret_key()
    assert settings.secret_key() == first
    assert len(first) == 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (S.REGISTERED, S.SAMPLED, True),
        (S.SAMPLED, S.SCHEDULED, True),
        (S.CHECKED, S.VIOLATION, True),
        (S.QUALIFIED, S.CARRIED_OVER, True),
        (S.CARRIED_OVER, S.FUNDED, True),
        (S.VIOLATION, S.FUNDED, False),
        (S.UNQUALIFIED, S.QUALIFIED, True),  # an objection (异议) overturns the outcome
        (S.VIOLATION, S.UNQUALIFIED, True),
        (S.UNQUALIFIED, S.FUNDED, False),
        (S.FUNDED, S.CANCELLED, False),
        (S.REGISTERED, S.QUALIFIED, False),
    ],
)
def test_project_life(current: S, target: S, ok: bool) -> None:
    assert can_move(current, target) is ok


def test_a_forbidden_move_says_so_in_both_languages() -> None:
    with pytest.raises(DomainError) as caught:
        check_move(S.VIOLATION, S.FUNDED)
    assert caught.value.status == 409
    assert "违规" in caught.value.message.zh
    assert "Violation" in caught.value.message.en


def test_times_show_in_shanghai() -> None:
    instant = dt.datetime(2020, 4, 10, 1, 30, tzinfo=dt.UTC)
    assert format_local(instant) == "2020-04-10 09:30"
    assert format_local(instant.astimezone(SHANGHAI)) == "2020-04-10 09:30"


async def test_money_is_exact_and_times_stay_aware_in_the_database(db: Database) -> None:
    from remote_check.migrations.models import Enterprise, Product, Supplier, VoucherProject
    from remote_check.programme.models import BusinessArea, SupplierKind

    async with db.factory() as session, session.begin():
        supplier = Supplier(name="S", credit_code="91440101MA59TEST01", kind=SupplierKind.PLATFORM, teams=1)
        session.add(supplier)
        await session.flush()
        product = Product(
            supplier_id=supplier.id,
            name="P",
            business_area=BusinessArea.RD_DESIGN,
            listed_price=Decimal("99999.99"),
        )
        enterprise = Enterprise(name="E", credit_code="91440101MA59TEST02", city_code="4401")
        session.add_all([product, enterprise])
        await session.flush()
        session.add(
            VoucherProject(
                code="P-1",
                city_code="4401",
                enterprise_id=enterprise.id,
                supplier_id=supplier.id,
                product_id=product.id,
                contract_date=dt.date(2019, 9, 1),
                contract_amount=Decimal("1234567.89"),
                voucher_amount=Decimal("200000.00"),
                amount_paid=Decimal("1111111.11"),
                redemption_requested_at=dt.datetime(2020, 1, 2, 10, 0, tzinfo=SHANGHAI),
                imported_at=dt.datetime(2020, 1, 3, tzinfo=dt.UTC),
            )
        )
    async with db.factory() as session:
        project = (await session.execute(text("SELECT id FROM voucher_projects"))).scalar_one()
        loaded = await session.get(VoucherProject, project)
        assert loaded is not None
        assert loaded.contract_amount == Decimal("1234567.89")
        assert loaded.redemption_requested_at == dt.datetime(2020, 1, 2, 2, 0, tzinfo=dt.UTC)
        assert loaded.redemption_requested_at.tzinfo is not None


async def test_naive_datetimes_and_floats_are_refused(db: Database) -> None:
    from remote_check.migrations.models import Campaign

    async with db.factory() as session:
        session.add(
            Campaign(
                city_code="4401",
                period="2019",
                title="t",
                budget=Decimal("1.00"),
                deadline=dt.date(2020, 6, 30),
                created_at=dt.datetime(2020, 1, 1),  # noqa: DTZ001 - the point of the test
            )
        )
        with pytest.raises(Exception, match="naive datetime refused"):
            await session.flush()
        await session.rollback()
        session.add(
            Campaign(
                city_code="4401",
                period="2019",
                title="t",
                budget=1.5,
                deadline=dt.date(2020, 6, 30),
                created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            )
        )
        with pytest.raises(Exception, match="money must be Decimal"):
            await session.flush()


def test_a_damaged_secret_key_file_is_an_error_not_an_empty_key(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("")
    with pytest.raises(ValueError, match="32-byte"):
        load_settings(data_dir=tmp_path).secret_key()
    (tmp_path / "secret.key").write_text("abcd")
    with pytest.raises(ValueError, match="32-byte"):
        load_settings(data_dir=tmp_path).secret_key()
