"""Hand-computed investment, product-stage and milestone figures (see metrics_dataset)."""

import datetime
from decimal import Decimal

import pytest

from portal.metrics import services
from portal.models import Metric
from portal.tests.metrics_dataset import build, key, values
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    dataset = build()
    services.recompute_all()
    return dataset


def test_company_investment_totals_in_original_currencies(data):
    got = values("company", data.a.pk)
    total = "investment_total"
    assert got[(total, key(amount_kind="capital_expenditure", currency="CNY"))] == 500_000_000
    assert got[(total, key(amount_kind="commitment", currency="USD"))] == 100_000_000
    assert got[(total, key(amount_kind="commitment", currency="EUR"))] == 20_000_000
    assert got[(total, key(amount_kind="expected_annual_output", currency="CNY"))] == 10**10


def test_company_investment_converted_at_the_announcement_date_rate(data):
    got = values("company", data.a.pk)
    # P2: USD 100M on 2024-01-15, latest rate on or before is 7.10 (2023-12-29).
    assert got[("investment_total_cny", key(amount_kind="commitment"))] == 710_000_000
    assert got[("investment_total_cny", key(amount_kind="capital_expenditure"))] == 500_000_000
    assert got[("investment_total_cny", key(amount_kind="expected_annual_output"))] == 10**10
    # USD via CNY: 500M / 7.10; 10bn / 7.13 (2025-02-01 → latest rate is 2024-06-28).
    usd = "investment_total_usd"
    assert got[(usd, key(amount_kind="capital_expenditure"))] == Decimal("70422535.21")
    assert got[(usd, key(amount_kind="expected_annual_output"))] == Decimal("1402524544.18")
    assert got[(usd, key(amount_kind="commitment"))] == 100_000_000


def test_amount_without_a_rate_is_reported_unconverted_not_dropped(data):
    converted = Metric.objects.get(
        subject_type="company",
        subject_id=data.a.pk,
        name="investment_total_cny",
        dimensions={"amount_kind": "commitment"},
    )
    assert converted.inputs["row_count"] == 2
    assert converted.inputs["unconverted_count"] == 1  # the EUR amount
    original = values("company", data.a.pk)
    assert original[("investment_total", key(amount_kind="commitment", currency="EUR"))] == (
        20_000_000
    )


def test_rate_before_the_first_known_rate_uses_the_earliest_after(data):
    # P5: USD 50M announced 2023-06-01, before any rate → earliest after (7.10).
    got = values("company", data.b.pk)
    assert got[("investment_total_cny", key(amount_kind="commitment"))] == 355_000_000


def test_amount_kinds_are_never_summed_together(data):
    kinds = set(
        Metric.objects.filter(name__startswith="investment_total").values_list(
            "dimensions__amount_kind", flat=True
        )
    )
    assert kinds == {"capital_expenditure", "commitment", "expected_annual_output"}
    assert not Metric.objects.filter(
        name__startswith="investment_total", dimensions__amount_kind__isnull=True
    ).exists()
    # Portal capital expenditure excludes the 10bn expected output and the commitments.
    portal = values("portal", None)
    assert portal[("investment_total_cny", key(amount_kind="capital_expenditure"))] == 5 * 10**8
    assert portal[("investment_total_cny", key(amount_kind="commitment"))] == 1_065_000_000
    assert portal[("projects", "{}")] == 5


def test_region_investment_by_year_rolls_up(data):
    cny = "investment_total_cny"
    zhangjiang = values("region", data.zhangjiang.pk)
    assert zhangjiang[(cny, key(amount_kind="capital_expenditure", year=2024))] == 5 * 10**8
    assert zhangjiang[(cny, key(amount_kind="expected_annual_output", year=2025))] == 10**10
    # Zhangjiang's only 2024 commitment is in EUR (no rate): no CNY figure, the original stays.
    assert (cny, key(amount_kind="commitment", year=2024)) not in zhangjiang
    assert (
        zhangjiang[("investment_total", key(amount_kind="commitment", currency="EUR", year=2024))]
        == 20_000_000
    )
    for region in (data.pudong, data.shanghai, data.china):
        got = values("region", region.pk)
        assert got[(cny, key(amount_kind="capital_expenditure", year=2024))] == 5 * 10**8
        assert got[(cny, key(amount_kind="commitment", year=2024))] == 710_000_000
        assert got[(cny, key(amount_kind="commitment", year=2023))] == 355_000_000
    assert not any(name.startswith("investment") for name, _ in values("region", data.beijing.pk))


def test_product_stages_and_milestones_by_kind_and_year(data):
    got = values("company", data.a.pk)
    assert got[("products_by_stage", key(stage="market_authorization"))] == 1
    assert got[("products_by_stage", key(stage="clinical_trial_approval"))] == 1
    assert got[("products_by_stage", key(stage="no_milestone"))] == 1
    assert ("products_by_stage", key(stage="breakthrough_designation")) not in got
    milestones = "milestones_by_kind_year"
    assert got[(milestones, key(kind="clinical_trial_approval", year=2022))] == 1
    assert got[(milestones, key(kind="clinical_trial_approval", year=2023))] == 1
    assert got[(milestones, key(kind="market_authorization", year=2024))] == 1


def test_region_milestones_count_where_the_company_is_registered(data):
    cta_2023 = ("milestones_by_kind_year", key(kind="clinical_trial_approval", year=2023))
    assert values("region", data.zhangjiang.pk)[cta_2023] == 1
    assert values("region", data.lingang.pk)[cta_2023] == 1
    assert values("region", data.pudong.pk)[cta_2023] == 2
    assert values("region", data.china.pk)[cta_2023] == 2
    assert cta_2023 not in values("region", data.beijing.pk)


def test_a_new_rate_reconverts(data):
    factories.ExchangeRateFactory(
        currency="EUR", date=datetime.date(2024, 4, 30), rate_to_cny="7.80"
    )
    services.recompute_all()
    got = values("company", data.a.pk)
    assert got[("investment_total_cny", key(amount_kind="commitment"))] == 866_000_000
