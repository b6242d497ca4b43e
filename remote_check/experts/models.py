"""Experts."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base


class Expert(Base):
    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    employer: Mapped[str] = mapped_column(String(200))
    employer_credit_code: Mapped[str | None] = mapped_column(String(18))
    # Credit codes of organisations the expert has other ties to (former employer, shares, family).
    ties: Mapped[list[str]] = mapped_column(JSON, default=list)
    speciality: Mapped[str] = mapped_column(String(100), default="")
    home_city_code: Mapped[str | None] = mapped_column(ForeignKey("cities.code"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ExpertCity(Base):
    """A city an expert serves. An expert with no rows serves every city."""

    __tablename__ = "expert_cities"

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), primary_key=True)
