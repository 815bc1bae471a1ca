"""The scenario service: happy path, field errors, fuzzing, citations checked against the DB."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import ScenarioError
from policies.models import Provision
from policies.services import (
    SubsidyScenarioError,
    subsidy_estimate_for_company,
    subsidy_estimate_for_scenario,
)
from policies.tests.subsidy_support import (
    INSURANCE_RULE,
    PRODUCT_RULE,
    make_car_t_company,
    make_rules,
)

pytestmark = pytest.mark.django_db

# The example of docs/subsidy-rules.md.
SCENARIO = {
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
            "amount": "1200000",
            "currency": "CNY",
        },
    ],
}


@pytest.fixture
def rules():
    return make_rules()


def _result(estimate: dict, code: str) -> dict:
    return next(result for result in estimate["results"] if result["rule"] == code)


def test_documented_scenario(rules):
    """30M product support (up to ceiling) + 50% of 1.2M premium capped at 500k."""
    estimate = subsidy_estimate_for_scenario(data=SCENARIO)
    assert estimate["total"] == "30500000.00"
    assert estimate["currency"] == "CNY"
    assert _result(estimate, PRODUCT_RULE)["status"] == "eligible"
    insurance = _result(estimate, INSURANCE_RULE)
    assert insurance["status"] == "capped"
    assert (insurance["amount_before_caps"], insurance["amount_after_caps"]) == (
        "600000.00",
        "500000.00",
    )


def test_district_modalities_are_expanded_from_the_database_tree(rules):
    scenario = copy.deepcopy(SCENARIO)
    scenario["company"] = {"registered_region": "pudong", "modalities": ["car_t"]}
    scenario["events"][0]["modality"] = "car_t"
    scenario["events"][0]["commercialized_in"] = "pudong"
    assert subsidy_estimate_for_scenario(data=scenario)["total"] == "30500000.00"


def test_unknown_region_is_a_field_error(rules):
    scenario = copy.deepcopy(SCENARIO)
    scenario["company"]["registered_region"] = "atlantis"
    with pytest.raises(SubsidyScenarioError) as caught:
        subsidy_estimate_for_scenario(data=scenario)
    assert caught.value.errors == {"company.registered_region": ["unknown region 'atlantis'"]}
    assert isinstance(caught.value, ScenarioError)


def test_every_bad_field_is_reported(rules):
    scenario = copy.deepcopy(SCENARIO)
    del scenario["as_of"]
    scenario["surprise"] = 1
    scenario["events"][0]["modality"] = "telepathy"
    scenario["events"][1]["amount"] = "-5"
    with pytest.raises(SubsidyScenarioError) as caught:
        subsidy_estimate_for_scenario(data=scenario)
    assert set(caught.value.errors) == {
        "as_of",
        "surprise",
        "events[0].modality",
        "events[1].amount",
    }


@pytest.mark.parametrize("data", [None, [], "scenario", 3, {"as_of": "2023-02-30"}])
def test_malformed_documents(rules, data):
    with pytest.raises(SubsidyScenarioError) as caught:
        subsidy_estimate_for_scenario(data=data)
    assert caught.value.errors
    assert all(isinstance(messages, list) and messages for messages in caught.value.errors.values())


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_slugish = st.sampled_from(
    ["shanghai", "pudong", "beijing", "atlantis", "cell_therapy", "car_t", "", "CNY", "USD"]
)
_event = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["market_authorization", "liability_insurance_premium", "x"]),
        "date": st.sampled_from(["2023-05-10", "2021-01-01", "2025-01-01", "2023-13-01"]),
        "product": st.none() | st.text(max_size=5),
        "modality": _slugish | st.lists(_slugish, max_size=2),
        "commercialized_in": st.none() | _slugish,
        "amount": st.none() | st.sampled_from(["0", "1200000", "1e5", "-1", "0.001"]) | _json,
        "currency": st.none() | _slugish,
        "reference": st.none() | st.sampled_from(["a", "b"]),
    },
)
_scenario = st.fixed_dictionaries(
    {
        "as_of": st.sampled_from(["2023-12-31", "2022-11-09", "1999-01-01", "x"]),
        "company": st.fixed_dictionaries(
            {},
            optional={
                "registered_region": st.none() | _slugish,
                "ownership": st.none() | st.sampled_from(["domestic", "state_owned", "nope"]),
                "modalities": st.lists(_slugish, max_size=2) | _json,
            },
        ),
        "events": st.lists(_event, max_size=4),
    }
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_json | _scenario)
def test_fuzz_result_or_field_errors(rules, data):
    try:
        estimate = subsidy_estimate_for_scenario(data=data)
    except SubsidyScenarioError as error:
        assert error.errors
        assert all(isinstance(key, str) for key in error.errors)
    else:
        assert isinstance(estimate, dict)
        assert set(estimate) == {"as_of", "currency", "total", "by_year", "results"}


def _assert_cited_from_the_database(estimate: dict) -> int:
    """Every eligible/capped result cites a stored provision with a verbatim excerpt."""
    checked = 0
    for result in estimate["results"]:
        if result["status"] not in ("eligible", "capped"):
            continue
        citation = result["trace"]["citation"]
        stored = Provision.objects.get(
            path=citation["path"], subsidy_rules__code=result["rule"]
        ).text
        assert citation["path"] == "IV.11"
        assert citation["excerpt"]
        assert citation["excerpt"] in stored
        assert citation["text"] == stored
        assert citation["source_file"] == "fixtures/sources/002_1d63a8ab57155fe3.txt"
        checked += 1
    return checked


def test_eligible_and_capped_results_cite_the_stored_provision(rules):
    regions, _ = rules
    assert _assert_cited_from_the_database(subsidy_estimate_for_scenario(data=SCENARIO)) == 2
    company = make_car_t_company(regions, products=4, launched=4)
    estimate = subsidy_estimate_for_company(company=company, year=2023)
    assert _result(estimate, PRODUCT_RULE)["status"] == "capped"
    assert _assert_cited_from_the_database(estimate) == 1
