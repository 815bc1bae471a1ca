"""Metrics on the real curated dataset, checked against figures stated in the source texts."""

import pytest
from django.core.management import call_command

from portal.metrics import services
from portal.models import Region
from portal.tests.metrics_dataset import key, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def curated():
    call_command("load_curated_data", verbosity=0)
    services.recompute_all()
    return {region.slug: region for region in Region.objects.all()}


def test_zhangjiang_biobank_capex_counts_up_to_shanghai_and_china(curated):
    # Source 004: Zhangjiang biobank, "100 million yuan" (CNY capital expenditure, 2021).
    capex_2021 = ("investment_total_cny", key(amount_kind="capital_expenditure", year=2021))
    for slug in ("zhangjiang-high-tech-park", "pudong", "shanghai", "china"):
        assert values("region", curated[slug].pk)[capex_2021] == 100_000_000, slug


def test_taizhou_output_value_stays_an_output_value(curated):
    # Source 003: "expected to have an annual output value of 10 billion RMB" (Taizhou, 2023).
    output = ("investment_total_cny", key(amount_kind="expected_annual_output", year=2023))
    capex = ("investment_total_cny", key(amount_kind="capital_expenditure", year=2023))
    taizhou = values("region", curated["taizhou-medical-high-tech-district"].pk)
    assert taizhou[output] == 10_000_000_000
    assert capex not in taizhou
    assert values("region", curated["china"].pk)[output] == 10_000_000_000
