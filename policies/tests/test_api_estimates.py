"""Subsidy estimate endpoints: scenario JSON in, reason-coded per-rule results out."""

import pytest

from policies.tests.subsidy_support import (
    INSURANCE_RULE,
    PRODUCT_RULE,
    make_car_t_company,
    make_rules,
)
from tests.api_mixins import api_client, assert_error

URL = "/api/v1/subsidy-estimates/"


def scenario(**overrides) -> dict:
    data = {
        "as_of": "2023-12-31",
        "company": {
            "registered_region": "shanghai",
            "ownership": "domestic",
            "modalities": ["cell_therapy"],
        },
        "events": [
            {
                "kind": "market_authorization",
                "date": "2023-05-10",
                "product": "P1",
                "modality": "cell_therapy",
                "commercialized_in": "shanghai",
            },
            {
                "kind": "liability_insurance_premium",
                "date": "2023-03-01",
                "amount": "800000",
                "currency": "CNY",
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def rules(db):
    return make_rules()


@pytest.mark.django_db
def test_scenario_estimate_has_totals_per_year_and_per_rule_trace(rules):
    response = api_client().post(URL, scenario(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    results = {result["rule"]: result for result in body["results"]}
    assert set(results) == {INSURANCE_RULE, PRODUCT_RULE}
    insurance = results[INSURANCE_RULE]
    # 50% of an 800,000 premium, under the 500,000 per-policy cap.
    assert insurance["status"] == "eligible"
    assert insurance["amount_before_caps"] == insurance["amount_after_caps"] == "400000.00"
    assert insurance["trace"]["citation"]["path"] == "IV.11"
    assert insurance["trace"]["conditions"]
    total = sum(float(r["amount_after_caps"]) for r in body["results"])
    assert float(body["total"]) == total and body["by_year"]["2023"] == body["total"]


@pytest.mark.django_db
def test_premium_above_the_cap_is_capped_with_a_reason(rules):
    data = scenario()
    data["events"][1]["amount"] = "1200000"
    body = api_client().post(URL, data, format="json").json()
    insurance = next(r for r in body["results"] if r["rule"] == INSURANCE_RULE)
    assert insurance["status"] == "capped"
    assert (insurance["amount_before_caps"], insurance["amount_after_caps"]) == (
        "600000.00",
        "500000.00",
    )
    assert "item_cap" in {reason["code"] for reason in insurance["reasons"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["company"].update(registered_region="atlantis"), "company.registered_region"),
        (lambda d: d["events"][1].update(amount="12abc"), "events[1].amount"),
        (lambda d: d["events"][1].update(amount="1e400"), "events[1].amount"),
        (lambda d: d["events"][0].update(date="2023-02-30"), "events[0].date"),
        (lambda d: d.pop("as_of"), "as_of"),
        (lambda d: d["events"][0].update(kind="x\x00y"), "events[0].kind"),
    ],
)
def test_malformed_scenarios_are_400_naming_the_field(rules, change, field):
    data = scenario()
    change(data)
    assert_error(api_client().post(URL, data, format="json"), 400, field)


@pytest.mark.django_db
def test_non_object_bodies_are_400(rules):
    client = api_client()
    assert_error(client.post(URL, [1, 2], format="json"), 400)
    assert_error(client.post(URL, b"{not json", content_type="application/json"), 400)


@pytest.mark.django_db
def test_estimates_need_a_token(rules):
    from rest_framework.test import APIClient

    assert_error(APIClient().post(URL, scenario(), format="json"), 401)


@pytest.mark.django_db
def test_company_estimate_from_recorded_data(rules):
    regions, _ = rules
    company = make_car_t_company(regions, products=2, launched=1)
    client = api_client()
    url = f"/api/v1/companies/{company.slug}/subsidy-estimate/"
    body = client.get(url, {"year": "2023"}).json()
    product = next(r for r in body["results"] if r["rule"] == PRODUCT_RULE)
    assert product["items"] and float(body["total"]) > 0
    assert_error(client.get(url, {"year": "20x3"}), 400, "year")
    assert_error(client.get(url, {"year": "0001"}), 400, "year")
    assert_error(client.get("/api/v1/companies/nobody/subsidy-estimate/"), 404)
