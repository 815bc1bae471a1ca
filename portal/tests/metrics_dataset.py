"""A small factory-built dataset mirroring the curated one, with hand-computed expectations.

China ─ Shanghai ─ Pudong ─┬ Zhangjiang (park)
      │                    └ Lingang (zone)
      └ Beijing

Company A (Zhangjiang, foreign-invested, open-ended), B (Lingang, domestic), C (Beijing,
foreign-invested only until 2020, domestic since), D (Pudong, an institution: not counted as
a company).

Rates (CNY per unit): USD 7.10 on 2023-12-29, USD 7.13 on 2024-06-28; no EUR rate.
Projects:
  P1 A  CNY   500,000,000  capital_expenditure     2024-03-01 Zhangjiang
  P2 A  USD   100,000,000  commitment              2024-01-15 Pudong     → 7.10 → 710,000,000
  P3 A  CNY 10,000,000,000 expected_annual_output  2025-02-01 Zhangjiang
  P4 A  EUR    20,000,000  commitment              2024-05-01 Zhangjiang → no rate: unconverted
  P5 B  USD    50,000,000  commitment              2023-06-01 Lingang    → before the first
                                                   rate: earliest after (7.10) → 355,000,000
Facilities: F1 A Zhangjiang manufacturing operational (operational since 2023-05-01),
  F2 A Zhangjiang innovation_center under_construction, F3 A Lingang manufacturing announced,
  F4 C Beijing testing_lab operational.
Products: X (A): CTA 2022-05-01, MA 2024-06-01 → stage market_authorization;
  Y (A): CTA 2023-03-01, breakthrough designation 2024-02-01 → stage clinical_trial_approval;
  Z (A): no milestone; W (B): CTA 2023-08-01 (region China, i.e. NMPA).
Policies: plan (Shanghai, in force since 2022, no expiry) with targets
  T1 CTA more_than 20 in Shanghai 2022-01-01..2024-12-31 → actual 3, not met, share 0.15
  T2 facilities_operational at_least 1 in Pudong 2022..2024 → 1, met, share 1
  T3 companies at_least 2 in Shanghai → 2, met, share 1
  T4 investment_amount at_least 3 "CNY 100 million" in Shanghai 2024 → 5, met, share 1.6667
  and an expired policy (2020..2021) that is not in force.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from tests import factories

D = datetime.date


@dataclass
class Dataset:
    china: object
    shanghai: object
    pudong: object
    zhangjiang: object
    lingang: object
    beijing: object
    a: object
    b: object
    c: object
    d: object
    f1: object
    plan: object
    expired: object
    p1: object


def build() -> Dataset:
    region = factories.RegionFactory
    china = region(slug="china", kind="country", parent=None)
    shanghai = region(slug="shanghai", kind="municipality", parent=china)
    pudong = region(slug="pudong", kind="district", parent=shanghai)
    zhangjiang = region(slug="zhangjiang", kind="park", parent=pudong)
    lingang = region(slug="lingang", kind="zone", parent=pudong)
    beijing = region(slug="beijing", kind="municipality", parent=china)

    factories.ExchangeRateFactory(currency="USD", date=D(2023, 12, 29), rate_to_cny="7.10")
    factories.ExchangeRateFactory(currency="USD", date=D(2024, 6, 28), rate_to_cny="7.13")

    a = factories.CompanyFactory(slug="company-a", registered_region=zhangjiang)
    b = factories.CompanyFactory(slug="company-b", registered_region=lingang)
    c = factories.CompanyFactory(slug="company-c", registered_region=beijing)
    d = factories.CompanyFactory(slug="institution-d", kind="institution", registered_region=pudong)
    factories.OwnershipPeriodFactory(company=a, ownership_type="foreign_invested")
    factories.OwnershipPeriodFactory(company=b, ownership_type="domestic")
    factories.OwnershipPeriodFactory(
        company=c, ownership_type="foreign_invested", effective_to=D(2020, 12, 31)
    )
    factories.OwnershipPeriodFactory(
        company=c, ownership_type="domestic", effective_from=D(2021, 1, 1)
    )
    factories.OwnershipPeriodFactory(company=d, ownership_type="foreign_invested")

    project = factories.InvestmentProjectFactory
    p1 = project(
        slug="p1",
        company=a,
        amount=Decimal("500000000"),
        currency="CNY",
        amount_kind="capital_expenditure",
        announced_on=D(2024, 3, 1),
        region=zhangjiang,
    )
    project(
        slug="p2",
        company=a,
        amount=Decimal("100000000"),
        currency="USD",
        amount_kind="commitment",
        announced_on=D(2024, 1, 15),
        region=pudong,
    )
    project(
        slug="p3",
        company=a,
        amount=Decimal("10000000000"),
        currency="CNY",
        amount_kind="expected_annual_output",
        announced_on=D(2025, 2, 1),
        region=zhangjiang,
    )
    project(
        slug="p4",
        company=a,
        amount=Decimal("20000000"),
        currency="EUR",
        amount_kind="commitment",
        announced_on=D(2024, 5, 1),
        region=zhangjiang,
    )
    project(
        slug="p5",
        company=b,
        amount=Decimal("50000000"),
        currency="USD",
        amount_kind="commitment",
        announced_on=D(2023, 6, 1),
        region=lingang,
    )

    facility = factories.FacilityFactory
    f1 = facility(
        slug="f1", company=a, region=zhangjiang, kind="manufacturing", status="operational"
    )
    factories.FacilityStatusChangeFactory(facility=f1, status="operational", date=D(2023, 5, 1))
    facility(
        slug="f2",
        company=a,
        region=zhangjiang,
        kind="innovation_center",
        status="under_construction",
    )
    facility(slug="f3", company=a, region=lingang, kind="manufacturing", status="announced")
    facility(slug="f4", company=c, region=beijing, kind="testing_lab", status="operational")

    product = factories.ProductFactory
    milestone = factories.RegulatoryMilestoneFactory
    x = product(slug="x", company=a)
    y = product(slug="y", company=a)
    product(slug="z", company=a)
    w = product(slug="w", company=b)
    milestone(
        slug="x-cta", product=x, kind="clinical_trial_approval", date=D(2022, 5, 1), region=china
    )
    milestone(slug="x-ma", product=x, kind="market_authorization", date=D(2024, 6, 1), region=china)
    milestone(
        slug="y-cta", product=y, kind="clinical_trial_approval", date=D(2023, 3, 1), region=china
    )
    milestone(
        slug="y-btd", product=y, kind="breakthrough_designation", date=D(2024, 2, 1), region=china
    )
    milestone(
        slug="w-cta", product=w, kind="clinical_trial_approval", date=D(2023, 8, 1), region=china
    )

    plan = factories.PolicyFactory(
        slug="plan", jurisdiction=shanghai, effective_from=D(2022, 1, 1), expires_on=None
    )
    expired = factories.PolicyFactory(
        slug="expired",
        jurisdiction=shanghai,
        effective_from=D(2020, 1, 1),
        expires_on=D(2021, 12, 31),
    )
    target = factories.PolicyTargetFactory
    target(
        slug="t1",
        policy=plan,
        metric="clinical_trial_approvals",
        comparator="more_than",
        value=Decimal(20),
        unit="approvals",
        period_start=D(2022, 1, 1),
        deadline=D(2024, 12, 31),
        region=shanghai,
    )
    target(
        slug="t2",
        policy=plan,
        metric="facilities_operational",
        comparator="at_least",
        value=Decimal(1),
        unit="facilities",
        period_start=D(2022, 1, 1),
        deadline=D(2024, 12, 31),
        region=pudong,
    )
    target(
        slug="t3",
        policy=plan,
        metric="companies",
        comparator="at_least",
        value=Decimal(2),
        unit="companies",
        period_start=None,
        deadline=D(2024, 12, 31),
        region=shanghai,
    )
    target(
        slug="t4",
        policy=plan,
        metric="investment_amount",
        comparator="at_least",
        value=Decimal(3),
        unit="CNY 100 million",
        period_start=D(2024, 1, 1),
        deadline=D(2024, 12, 31),
        region=shanghai,
    )
    return Dataset(
        china, shanghai, pudong, zhangjiang, lingang, beijing, a, b, c, d, f1, plan, expired, p1
    )


def values(subject_type: str, subject_id) -> dict:
    """{(name, dimensions_key): value} of one subject, as readers see it (`Figure`: the
    investment figures' values live from their cells)."""
    from portal.models import Figure

    return {
        (m.name, m.dimensions_key): m.value
        for m in Figure.objects.filter(subject_type=subject_type, subject_id=subject_id)
    }


def key(**dimensions) -> str:
    """The dimensions_key PostgreSQL generates for these dimensions (jsonb text output)."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb::text", [json.dumps(dimensions)])
        return cursor.fetchone()[0]
