"""`manage.py estimate_subsidies`: readable trace, --json, and field errors as CommandError."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from policies.services import subsidy_estimate_for_company, subsidy_estimate_for_scenario
from policies.tests.subsidy_support import (
    CAP_GROUP,
    INSURANCE_RULE,
    PRODUCT_RULE,
    make_car_t_company,
    make_rules,
)
from policies.tests.test_subsidy_scenario import SCENARIO

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    regions, _ = make_rules()
    return make_car_t_company(regions, products=4, launched=3)


def _run(*args) -> str:
    out = io.StringIO()
    call_command("estimate_subsidies", *args, stdout=out)
    return out.getvalue()


def test_company_mode_prints_status_amounts_conditions_caps_and_citation(company):
    """Three launched products: 90M under the 100M cap; the fourth is missing its launch."""
    text = _run("--company", company.slug, "--year", "2023")

    assert "Subsidy estimate as of 2023-12-31" in text
    assert "Total: 90000000.00 CNY" in text
    assert f"== {PRODUCT_RULE}: Cell therapy product launch support" in text
    assert "Status: eligible" in text
    assert "Amount: 90000000.00 before caps, 90000000.00 CNY after caps" in text
    assert "  2023: 90000000.00 before caps, 90000000.00 after caps" in text
    assert (
        "  milestone:cart-co-p1-ma (2023-03-01, product cart-co-p1): up_to_ceiling: "
        "30000000.00 -> 30000000.00"
    ) in text
    assert "[missing_input] milestone:cart-co-p4-ma: event.commercialized_in is unknown" in text
    assert (
        "PASS    company: company.registered_region within shanghai; "
        "actual china > shanghai > pudong"
    ) in text
    assert (
        "MISSING milestone:cart-co-p4-ma: event.commercialized_in within shanghai; actual unknown"
    ) in text
    assert (
        f"cap group {CAP_GROUP} in 2023: limit 100000000.00, this rule 90000000.00 -> "
        "90000000.00, all rules of the group 90000000.00 before the cap, not bound"
    ) in text
    assert "PASS    milestone:cart-co-p1-ma: event.product required; actual cart-co-p1" in text
    assert (
        "Events of other kinds, not considered: milestone:cart-co-p1-ma (market_authorization)"
    ) in text
    assert "Citation: provision IV.11 of Shanghai Action Plan" in text
    assert "(fixtures/sources/002_1d63a8ab57155fe3.txt)" in text
    assert '"enterprises registered in the city that obtain market authorization' in text
    assert f"== {INSURANCE_RULE}" in text
    assert "[no_qualifying_event]" in text


def test_scenario_mode(company, tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO), "utf-8")
    text = _run("--scenario", str(scenario))
    assert "Total: 30500000.00 CNY" in text
    assert "Status: capped" in text
    assert (
        "per-item cap on events[1]: limit 500000.00, this rule 600000.00 -> 500000.00, bound"
        in (text)
    )
    assert "events[1] (2023-03-01): percentage of 1200000.00: 600000.00 -> 500000.00" in text


def test_json_output_is_the_service_result(company, tmp_path):
    printed = json.loads(_run("--company", company.slug, "--year", "2023", "--json"))
    assert printed == subsidy_estimate_for_company(company=company, year=2023)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO), "utf-8")
    printed = json.loads(_run("--scenario", str(scenario), "--json"))
    assert printed == subsidy_estimate_for_scenario(data=SCENARIO)


def test_scenario_field_errors_become_a_command_error(company, tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps({**SCENARIO, "company": {"registered_region": "atlantis"}}), "utf-8"
    )
    with pytest.raises(CommandError) as caught:
        _run("--scenario", str(scenario))
    assert "company.registered_region: unknown region 'atlantis'" in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--company", "nobody", "--year", "2023"), "No company with slug 'nobody'"),
        (("--company", "cart-co"), "--year is required"),
        (("--company", "cart-co", "--year", "0"), "year: must be a year from 1900"),
        (("--scenario", "/nonexistent/scenario.json"), "Cannot read /nonexistent/scenario.json"),
    ],
)
def test_bad_arguments(company, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)


def test_invalid_json_file(company, tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text("{not json", "utf-8")
    with pytest.raises(CommandError, match="is not valid JSON"):
        _run("--scenario", str(scenario))
