"""Tables of the voucher programme (上云上平台服务券)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from remote_check.database import Base, Money, UTCDateTime


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value, as a portable VARCHAR with a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class SupplierKind(enum.StrEnum):
    PLATFORM = "platform"  # 平台商
    SERVICE_PROVIDER = "service_provider"  # 服务商
    CARRIER = "carrier"  # 基础电信运营商


class BusinessArea(enum.StrEnum):
    RD_DESIGN = "rd_design"  # 研发设计
    PRODUCTION_CONTROL = "production_control"  # 生产管控
    BUSINESS_MANAGEMENT = "business_management"  # 经营管理
    AFTER_SALES = "after_sales"  # 售后服务
    CLOUD_INFRASTRUCTURE = "cloud_infrastructure"  # 云基础设施


class ProjectStatus(enum.StrEnum):
    REGISTERED = "registered"
    SAMPLED = "sampled"
    SCHEDULED = "scheduled"
    CHECKED = "checked"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"
    VIOLATION = "violation"
    FUNDED = "funded"
    CARRIED_OVER = "carried_over"
    CANCELLED = "cancelled"


class City(Base):
    __tablename__ = "cities"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(16))
    name_en: Mapped[str] = mapped_column(String(32))
    in_round: Mapped[bool] = mapped_column(Boolean, default=True)
    # Panels (rooms) that can hold checks at once: the planner's and the booking's limit.
    rooms: Mapped[int] = mapped_column(Integer, default=3, server_default="3")


class CityDayClosed(Base):
    """A day a city holds no checks (a local holiday, the office closed)."""

    __tablename__ = "city_days_closed"

    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class UnavailableKind(enum.StrEnum):
    EXPERT = "expert"
    ENTERPRISE = "enterprise"


class Unavailability(Base):
    """A time an expert or an enterprise cannot take part in a check."""

    __tablename__ = "unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UnavailableKind] = mapped_column(enum_column(UnavailableKind, "unavailable_kind"))
    party_id: Mapped[int] = mapped_column(Integer, index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200), default="")


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[SupplierKind] = mapped_column(enum_column(SupplierKind, "supplier_kind"))
    teams: Mapped[int] = mapped_column(Integer, default=1)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    delisted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    barred_until: Mapped[dt.date | None] = mapped_column(Date)
    cap_amount: Mapped[Decimal | None] = mapped_column(Money())

    products: Mapped[list[Product]] = relationship(back_populates="supplier", lazy="raise")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("supplier_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    business_area: Mapped[BusinessArea] = mapped_column(enum_column(BusinessArea, "business_area"))
    listed_price: Mapped[Decimal] = mapped_column(Money())
    price_unit: Mapped[str] = mapped_column(String(32), default="套")
    price_period: Mapped[str] = mapped_column(String(32), default="年")
    deployment: Mapped[str] = mapped_column(String(32), default="公有云")

    supplier: Mapped[Supplier] = relationship(back_populates="products", lazy="raise")
    modules: Mapped[list[ProductModule]] = relationship(
        back_populates="product", lazy="raise", order_by="ProductModule.position"
    )


class ProductModule(Base):
    """A function module (功能模块) the supplier declared for a product."""

    __tablename__ = "product_modules"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")

    product: Mapped[Product] = relationship(back_populates="modules", lazy="raise")


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    barred_until: Mapped[dt.date | None] = mapped_column(Date)


class VoucherProject(Base):
    """One voucher (服务券) project: an enterprise buying a supplier's listed product."""

    __tablename__ = "voucher_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    contract_date: Mapped[dt.date] = mapped_column(Date)
    contract_amount: Mapped[Decimal] = mapped_column(Money())
    voucher_amount: Mapped[Decimal] = mapped_column(Money())
    amount_paid: Mapped[Decimal] = mapped_column(Money())
    redemption_requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    is_key_project: Mapped[bool] = mapped_column(Boolean, default=False)
    is_cluster: Mapped[bool] = mapped_column(Boolean, default=False)
    has_usage_logs: Mapped[bool] = mapped_column(Boolean, default=True)
    under_recheck: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ProjectStatus] = mapped_column(
        enum_column(ProjectStatus, "project_status"), default=ProjectStatus.REGISTERED, index=True
    )
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    enterprise: Mapped[Enterprise] = relationship(lazy="raise")
    supplier: Mapped[Supplier] = relationship(lazy="raise")
    product: Mapped[Product] = relationship(lazy="raise")
