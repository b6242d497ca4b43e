"""Realistic synthetic data of one settlement batch (``../shared/notes/domain.md``, table "est.").

Pure and deterministic: :func:`generate` turns ``(seed, scale)`` into frozen dataclasses, with no
I/O and no clock; the same seed and scale always give equal data. Every estimated rate is a field
of :class:`Rates`. Loading into a database is :mod:`scheduler.demo.service`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from remote_check.accounts.models import Role
from remote_check.clock import SHANGHAI
from remote_check.programme import credit_code
from remote_check.programme.cities import BY_CODE, CITIES
from remote_check.programme.models import BusinessArea, SupplierKind
from scheduler.demo import names
from scheduler.demo.records import (
    DEMO_PASSWORD,
    DemoCity,
    DemoData,
    DemoEnterprise,
    DemoExpert,
    DemoModule,
    DemoProduct,
    DemoProject,
    DemoSupplier,
    DemoUser,
    Scale,
)

FEN = Decimal("0.01")
ASIDE = ("广东", "广州", "深圳", "东莞", "佛山")  # prefixes skipped when a product takes its supplier's brand


@dataclass(frozen=True)
class Rates:
    """The estimated rates and caps of the demo data (all "est." in the domain notes)."""

    supplier_skew: float = 0.6  # Zipf exponent: the top 10% of ~200 suppliers hold about half the projects
    voucher_ratio: Decimal = Decimal("0.30")
    other_ratios: tuple[Decimal, ...] = tuple(Decimal(r) for r in ("0.20", "0.25", "0.35", "0.40", "0.50"))
    other_ratio_share: float = 0.3
    voucher_cap: Decimal = Decimal("200000.00")
    contract_min: Decimal = Decimal("10000.00")
    contract_max: Decimal = Decimal("2000000.00")
    over_price: float = 0.03  # contract above 1.5x the listed price
    no_usage_logs: float = 0.05
    underpaid: float = 0.03  # paid below 90% of the contract
    key_project: float = 0.08
    cluster_share: float = 0.35  # of the projects in cluster-pilot cities
    shared_enterprise: float = 0.05  # an enterprise with a second project
    supplier_employed_experts: float = 0.2
    expert_ties: float = 0.15


# Base project counts per city (jittered by ±10%, then held in the documented range of the city's tier).
FULL_BASES = {
    "4419": 570, "4406": 540, "4401": 480,
    "4420": 185, "4413": 175, "4407": 160, "4405": 150, "4404": 120, "4412": 110,
    "4418": 55, "4452": 52, "4451": 48, "4408": 45, "4409": 40, "4402": 40, "4414": 35, "4416": 35,
    "4417": 32, "4453": 28, "4415": 25,
}  # fmt: skip
SMALL_BASES = {"4419": 45, "4406": 40, "4401": 35, "4420": 18, "4418": 10}
TIERS = {"4401": (250, 600), "4406": (250, 600), "4419": (250, 600)} | {
    code: (60, 200) for code in ("4420", "4413", "4407", "4404", "4405", "4412")
}
OTHER_TIER = (10, 60)
SUPPLIERS = {Scale.FULL: (180, 220), Scale.SMALL: (22, 28)}
EXPERTS = {Scale.FULL: 60, Scale.SMALL: 12}
SPECIAL_KINDS = {Scale.FULL: (3, 10), Scale.SMALL: (1, 2)}  # carriers, national platforms
HOME_WEIGHTS = {"4401": 30, "4403": 25, "4419": 10, "4406": 10, "4420": 4, "4413": 4, "4404": 4, "4407": 3}
CAPS = {SupplierKind.CARRIER: Decimal("8000000.00"), SupplierKind.PLATFORM: Decimal("8000000.00")}
OTHER_CAP = Decimal("5000000.00")
FIRST_DAY, LAST_DAY = dt.date(2020, 1, 2), dt.date(2020, 3, 20)  # redemption requests
HOLIDAY = (dt.date(2020, 1, 24), dt.date(2020, 2, 9))  # Spring Festival, extended for the epidemic


@dataclass
class _Draft:
    """A supplier before its projects are known (teams follow from how many it has)."""

    index: int
    name: str
    credit_code: str
    kind: SupplierKind
    cap_amount: Decimal
    home_city: str
    cities: tuple[str, ...]
    products: tuple[DemoProduct, ...]

    def final(self, projects: int) -> DemoSupplier:
        teams = min(6, 1 + int(math.sqrt(projects) / 2.5))  # bigger suppliers field more teams
        return DemoSupplier(
            self.index, self.name, self.credit_code, self.kind, teams, self.cap_amount, self.home_city,
            self.cities, self.products,
        )  # fmt: skip


def generate(seed: int, scale: Scale | str = Scale.SMALL, rates: Rates | None = None) -> DemoData:
    """All the demo data of ``scale`` for ``seed``; equal inputs give equal data."""
    return _Builder(seed, Scale(scale), rates or Rates()).build()


def yuan(value: float, step: Decimal = FEN, rounding: str = ROUND_HALF_UP) -> Decimal:
    """A float amount (a draw) as Decimal yuan, rounded to ``step`` then shown with fen precision."""
    return (Decimal(repr(value)) / step).quantize(Decimal(1), rounding=rounding) * step + Decimal("0.00")


@dataclass
class _Builder:
    seed: int
    scale: Scale
    rates: Rates
    rng: random.Random = field(init=False)
    codes: set[str] = field(default_factory=set)
    issued: dict[int, Decimal] = field(default_factory=dict)  # voucher total so far, by supplier
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"remote-check-demo:{self.scale.value}:{self.seed}")

    def build(self) -> DemoData:
        cities = self._cities()
        counts = {c.code: c.projects for c in cities}
        drafts = self._suppliers(counts)
        enterprises: list[DemoEnterprise] = []
        projects: list[DemoProject] = []
        for city in cities:
            if city.projects:
                projects += self._city_projects(city, drafts, enterprises)
        per_supplier = Counter(p.supplier for p in projects)
        suppliers = tuple(d.final(per_supplier[d.index]) for d in drafts)
        experts = self._experts(suppliers, counts)
        return DemoData(
            self.seed, self.scale, DEMO_PASSWORD, cities, suppliers, tuple(enterprises),
            tuple(projects), experts, _users(experts),
        )  # fmt: skip

    # --- cities and suppliers -------------------------------------------------------------------
    def _cities(self) -> tuple[DemoCity, ...]:
        bases = FULL_BASES if self.scale == Scale.FULL else SMALL_BASES
        result = []
        for city in CITIES:
            base = bases.get(city.code, 0)
            count = round(base * self.rng.uniform(0.9, 1.1)) if base else 0
            if base and self.scale == Scale.FULL:
                low, high = TIERS.get(city.code, OTHER_TIER)
                count = min(high, max(low, count))
            result.append(DemoCity(city.code, city.name_zh, city.name_en, count))
        return tuple(result)

    def _credit_code(self, division: str, category: str = "91") -> str:
        while (code := credit_code.generate(self.rng, division=division, category=category)) in self.codes:
            pass
        self.codes.add(code)
        return code

    def _unique_name(self, make: str, *parts: tuple[str, ...]) -> str:
        while True:
            trade = "".join(self.rng.sample(names.TRADE_CHARS, 2))
            name = make.format(trade, *(self.rng.choice(p) for p in parts))
            if name not in self.names:
                self.names.add(name)
                return name

    def _suppliers(self, counts: dict[str, int]) -> list[_Draft]:
        rng = self.rng
        total = rng.randint(*SUPPLIERS[self.scale])
        carriers, platforms = SPECIAL_KINDS[self.scale]
        special = rng.sample(range(min(20, total)), carriers + platforms)
        kinds = {i: SupplierKind.CARRIER for i in special[:carriers]}
        kinds |= {i: SupplierKind.PLATFORM for i in special[carriers:]}
        active = [code for code, n in counts.items() if n]
        weights = [counts[c] for c in active]
        homes, home_w = list(HOME_WEIGHTS), list(HOME_WEIGHTS.values())
        drafts: list[_Draft] = []
        for index in range(total):
            kind = kinds.get(index, SupplierKind.SERVICE_PROVIDER)
            home = "4401" if kind == SupplierKind.CARRIER else rng.choices(homes, home_w)[0]
            if kind == SupplierKind.CARRIER:
                name = names.CARRIERS[sum(d.kind == kind for d in drafts)]
                self.names.add(name)
            else:
                suffixes = (
                    names.PLATFORM_SUFFIXES if kind == SupplierKind.PLATFORM else names.SUPPLIER_SUFFIXES
                )
                prefix = "广东" if kind == SupplierKind.PLATFORM else BY_CODE[home].name_zh
                name = self._unique_name(prefix + "{}{}", suffixes)
            share = index / total
            wanted = (
                rng.randint(5, 8) if share < 0.1 else rng.randint(2, 5) if share < 0.4 else rng.randint(1, 3)
            )
            cities = _weighted_sample(rng, active, weights, min(wanted, len(active)), first=home)
            division = rng.choice(names.DISTRICTS.get(home, (home + "00",)))
            products = self._products(name, kind, 5 if share < 0.1 else 4 if share < 0.4 else 2)
            code = self._credit_code(division)
            drafts.append(_Draft(index, name, code, kind, CAPS.get(kind, OTHER_CAP), home, cities, products))
        for code in active:  # every city with projects has a supplier active in it
            if not any(code in d.cities for d in drafts):
                chosen = rng.choice([d for d in drafts if len(d.cities) < 8])
                chosen.cities = (*chosen.cities, code)
        return drafts

    def _products(self, supplier: str, kind: SupplierKind, most: int) -> tuple[DemoProduct, ...]:
        rng = self.rng
        if kind == SupplierKind.CARRIER:
            focus = BusinessArea.CLOUD_INFRASTRUCTURE
        else:
            focus = rng.choice(list(BusinessArea))
        lines = [line for line in names.PRODUCT_LINES if line.area == focus]
        others = [line for line in names.PRODUCT_LINES if line.area != focus]
        rng.shuffle(lines)
        rng.shuffle(others)
        brand = supplier[2:4] if supplier.startswith(ASIDE) else supplier[:2]
        products = []
        for line in (lines + others)[: rng.randint(1, most)]:
            chosen = sorted(rng.sample(range(len(line.modules)), rng.randint(3, min(8, len(line.modules)))))
            modules = tuple(DemoModule(*line.modules[i].split("：", 1)) for i in chosen)
            price = min(1_300_000.0, max(12_000.0, rng.lognormvariate(math.log(line.median_price), 0.5)))
            deployment = rng.choices(("公有云", "混合云", "私有云"), (8, 1, 1))[0]
            products.append(
                DemoProduct(
                    brand + line.stem, line.area, yuan(price, Decimal(100)), line.unit, line.period,
                    deployment, modules,
                )
            )  # fmt: skip
        return tuple(products)

    # --- enterprises and projects ------------------------------------------------------------------
    def _city_projects(
        self, city: DemoCity, drafts: list[_Draft], enterprises: list[DemoEnterprise]
    ) -> list[DemoProject]:
        rng, rates, n = self.rng, self.rates, city.projects
        here = [d for d in drafts if city.code in d.cities]
        weights = [1 / (d.index + 1) ** rates.supplier_skew for d in here]
        at_least_one = 1 if n >= 15 else 0
        picked = {
            kind: set(rng.sample(range(n), max(at_least_one, round(rate * n))))
            for kind, rate in (
                ("over", rates.over_price),
                ("logs", rates.no_usage_logs),
                ("paid", rates.underpaid),
            )
        }
        cluster_rate = rates.cluster_share if city.code in names.CLUSTER_CITIES else 0.0
        first_enterprise = len(enterprises)
        rows = []
        for i in range(n):
            supplier = rng.choices(here, weights)[0]
            products = supplier.products
            product = rng.choices(range(len(products)), [1 / (j + 1) for j in range(len(products))])[0]
            if len(enterprises) > first_enterprise and rng.random() < rates.shared_enterprise:
                enterprise = rng.randrange(first_enterprise, len(enterprises))
            else:
                enterprise = len(enterprises)
                enterprises.append(self._enterprise(enterprise, city.code))
            contract = self._contract(products[product].listed_price, over=i in picked["over"])
            voucher = min(rates.voucher_cap, (contract * self._ratio()).quantize(FEN, ROUND_HALF_UP))
            self.issued[supplier.index] = self.issued.get(supplier.index, Decimal(0)) + voucher
            if self.issued[supplier.index] + rates.voucher_cap > supplier.cap_amount:  # its cap is reached
                weights = [0 if d is supplier else w for d, w in zip(here, weights, strict=True)]
                weights = weights if any(weights) else [1.0] * len(here)
            if i in picked["paid"]:
                paid = (contract * Decimal(repr(rng.uniform(0.5, 0.89)))).quantize(FEN, ROUND_DOWN)
            elif rng.random() < 0.85:
                paid = contract
            else:
                paid = min(
                    contract, (contract * Decimal(repr(rng.uniform(0.9, 0.999)))).quantize(FEN, ROUND_UP)
                )
            requested = self._request_time()
            signed = max(dt.date(2019, 3, 1), requested.date() - dt.timedelta(days=rng.randint(20, 240)))
            rows.append(
                DemoProject(
                    "", city.code, enterprise, supplier.index, product, signed, contract, voucher, paid,
                    requested, rng.random() < rates.key_project, rng.random() < cluster_rate,
                    i not in picked["logs"],
                )
            )  # fmt: skip
        rows.sort(key=lambda p: p.redemption_requested_at)  # numbered first come, first served
        return [replace(p, code=f"FWQ2019-{city.code}-{n:04d}") for n, p in enumerate(rows, start=1)]

    def _enterprise(self, index: int, city: str) -> DemoEnterprise:
        prefix = BY_CODE[city].name_zh + "市"
        name = self._unique_name(prefix + "{}{}{}", names.INDUSTRIES, names.ENTERPRISE_SUFFIXES)
        division = self.rng.choice(names.DISTRICTS.get(city, (city + "00",)))
        return DemoEnterprise(index, name, self._credit_code(division), city)

    def _contract(self, listed: Decimal, *, over: bool) -> Decimal:
        rng, rates = self.rng, self.rates
        if over and listed * Decimal("1.6") <= rates.contract_max:
            factor = rng.uniform(1.6, 3.0)
        else:
            factor = min(1.45, max(0.5, rng.lognormvariate(0.0, 0.25)))
        step = rng.choices((Decimal(100), Decimal(1), FEN), (6, 3, 1))[0]
        amount = yuan(float(listed) * factor, step)
        return min(rates.contract_max, max(rates.contract_min, amount))

    def _ratio(self) -> Decimal:
        if self.rng.random() < self.rates.other_ratio_share:
            return self.rng.choice(self.rates.other_ratios)
        return self.rates.voucher_ratio

    def _request_time(self) -> dt.datetime:
        rng = self.rng
        days = [FIRST_DAY + dt.timedelta(days=d) for d in range((LAST_DAY - FIRST_DAY).days + 1)]
        weights = [0.05 if HOLIDAY[0] <= d <= HOLIDAY[1] else 0.15 if d.weekday() >= 5 else 1.0 for d in days]
        day = rng.choices(days, weights)[0]
        start = dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI)
        return start + dt.timedelta(seconds=rng.randrange(int(9.5 * 3600)))

    # --- experts -------------------------------------------------------------------------------------
    def _experts(self, suppliers: tuple[DemoSupplier, ...], counts: dict[str, int]) -> tuple[DemoExpert, ...]:
        rng, rates = self.rng, self.rates
        employers = {
            name: self._credit_code("440000", "91" if name.endswith("事务所") else "12")
            for name in names.UNIVERSITIES + names.INSTITUTES
        }
        busy = sorted(suppliers, key=lambda s: s.index)[: max(3, len(suppliers) // 4)]
        homes = [code for code, n in counts.items() if n] + ["4403"]
        experts: list[DemoExpert] = []
        people: set[str] = set()
        for number in range(1, EXPERTS[self.scale] + 1):
            while (person := rng.choice(names.SURNAMES) + _given(rng)) in people:
                pass
            people.add(person)
            draw = rng.random()
            # expert01, the demo log-in, is independent so that it sits on the demo's panels.
            if number > 1 and draw < rates.supplier_employed_experts:  # a conflict of interest to be caught
                supplier = rng.choice(busy)
                employer, code = supplier.name, supplier.credit_code
            else:
                pool = names.UNIVERSITIES if draw < 0.7 else names.INSTITUTES
                employer = rng.choice(pool)
                code = employers[employer]
            ties: tuple[str, ...] = ()
            if rng.random() < rates.expert_ties:
                ties = tuple(
                    s.credit_code for s in rng.sample(busy, rng.randint(1, 2)) if s.credit_code != code
                )
            experts.append(
                DemoExpert(person, employer, code, ties, rng.choice(names.SPECIALITIES), rng.choice(homes),
                           f"expert{number:02d}")
            )  # fmt: skip
        return tuple(experts)


def _weighted_sample(
    rng: random.Random, items: list[str], weights: list[int], k: int, first: str
) -> tuple[str, ...]:
    """``k`` distinct items drawn by weight; ``first`` (the home city) leads when it is among them."""
    chosen = [first] if first in items and rng.random() < 0.8 else []
    while len(chosen) < k:
        pick = rng.choices(items, weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    return tuple(chosen[:k])


def _given(rng: random.Random) -> str:
    return "".join(rng.choice(names.GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))


def _users(experts: tuple[DemoExpert, ...]) -> tuple[DemoUser, ...]:
    """One demo account for every role, and one for every expert."""
    dongguan, foshan, guangzhou = (BY_CODE[c].name_zh for c in ("4419", "4406", "4401"))
    users = [
        DemoUser("province.admin", "省工信厅管理员", Role.PROVINCE_ADMIN, None, names.PROVINCE_DEPARTMENT),
        DemoUser("dg.coord", "东莞协调员", Role.CITY_COORDINATOR, "4419", dongguan + names.CITY_BUREAU),
        DemoUser("gz.coord", "广州协调员", Role.CITY_COORDINATOR, "4401", guangzhou + names.CITY_BUREAU),
        DemoUser("fs.coord", "佛山协调员", Role.CITY_COORDINATOR, "4406", foshan + names.CITY_BUREAU),
        DemoUser("province.auditor", "省级审计员", Role.AUDITOR, None, names.PROVINCE_DEPARTMENT),
        DemoUser("dg.auditor", "东莞审计员", Role.AUDITOR, "4419", dongguan + names.CITY_BUREAU),
        DemoUser("alliance", "产业联盟工作人员", Role.ALLIANCE_STAFF, None, names.ALLIANCE),
    ]
    users += [
        DemoUser(e.username, e.name, Role.EXPERT, None, e.employer, expert=i) for i, e in enumerate(experts)
    ]
    return tuple(users)
