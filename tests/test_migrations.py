"""The schema is made by Alembic alone and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from remote_check.migrate import downgrade, upgrade
from remote_check.migrations.models import Base, City
from tests.conftest import Database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_every_migration_goes_down_and_up_again(db: Database) -> None:
    """Each migration after the first can be undone, and redone to the same schema."""
    await downgrade(db.engine, "0001")
    await upgrade(db.engine)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_the_21_cities_are_there(db: Database) -> None:
    async with db.factory() as session:
        count = await session.scalar(select(func.count()).select_from(City))
        shenzhen = await session.get(City, "4403")
    assert count == 21
    assert shenzhen is not None
    assert not shenzhen.in_round
