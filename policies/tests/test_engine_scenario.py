"""Scenario parsing: the investor JSON becomes Facts, or a ScenarioError naming each field."""

import contextlib
import copy
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.engine import (
    CompanyFacts,
    Event,
    Facts,
    RegionRef,
    ScenarioError,
    Status,
    evaluate,
    parse_cap_group,
    parse_rule,
    parse_scenario,
)
from policies.engine.task11 import (
    ANNUAL_ENTITY_CAP,
    LIABILITY_INSURANCE_RULE,
    PRODUCT_SUPPORT_RULE,
)

REGION_PATHS = {
    "china": ("china",),
    "shanghai": ("china", "shanghai"),
    "pudong": ("china", "shanghai", "pudong"),
    "beijing": ("china", "beijing"),
}
EXAMPLE = {
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
SHANGHAI = RegionRef("shanghai", ("china", "shanghai"))


def errors_for(data) -> dict[str, list[str]]:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(data, REGION_PATHS)
    return raised.value.errors


def with_change(path: tuple, value):
    data = copy.deepcopy(EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_the_example_parses():
    assert parse_scenario(EXAMPLE, REGION_PATHS) == Facts(
        as_of=date(2023, 12, 31),
        company=CompanyFacts(SHANGHAI, "domestic", frozenset({"cell_therapy"})),
        events=(
            Event(
                kind="market_authorization",
                date=date(2023, 5, 10),
                reference="events[0]",
                product="P1",
                modality=frozenset({"cell_therapy"}),
                commercialized_in=SHANGHAI,
            ),
            Event(
                kind="liability_insurance_premium",
                date=date(2023, 3, 1),
                reference="events[1]",
                amount=Decimal("800000"),
                currency="CNY",
            ),
        ),
    )


def test_the_example_estimate():
    facts = parse_scenario(EXAMPLE, REGION_PATHS)
    rules = [parse_rule(PRODUCT_SUPPORT_RULE), parse_rule(LIABILITY_INSURANCE_RULE)]
    estimate = evaluate(facts, rules, [parse_cap_group(ANNUAL_ENTITY_CAP)])
    assert [result.status for result in estimate.results] == [Status.ELIGIBLE, Status.ELIGIBLE]
    assert estimate.total == Decimal(30_400_000)


def test_modalities_expand_to_parents_and_region_paths_are_completed():
    data = with_change(("events", 0, "modality"), ["car_t"])
    data["company"]["modalities"] = ["stem_cell"]
    data["company"]["registered_region"] = "pudong"
    facts = parse_scenario(data, {**REGION_PATHS, "pudong": ("china", "shanghai")})
    assert facts.events[0].modality == {"car_t", "cell_therapy"}
    assert facts.company.modalities == {"stem_cell", "cell_therapy"}
    assert facts.company.registered_region.path == ("china", "shanghai", "pudong")


def test_custom_modality_parents():
    data = with_change(("events", 0, "modality"), "allogeneic_car_t")
    parents = {"allogeneic_car_t": ["car_t"], "car_t": ["cell_therapy"], "cell_therapy": []}
    facts = parse_scenario(data, REGION_PATHS, parents)
    assert facts.events[0].modality == {"allogeneic_car_t", "car_t", "cell_therapy"}


def test_optional_company_facts_may_be_null_or_absent():
    data = copy.deepcopy(EXAMPLE)
    data["company"] = {"registered_region": None}
    facts = parse_scenario(data, REGION_PATHS)
    assert facts.company == CompanyFacts()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("as_of",), "2023-02-30", "as_of"),
        (("as_of",), "31/12/2023", "as_of"),
        (("as_of",), 20231231, "as_of"),
        (("company",), ["shanghai"], "company"),
        (("company", "registered_region"), "atlantis", "company.registered_region"),
        (("company", "registered_region"), 7, "company.registered_region"),
        (("company", "ownership"), "private", "company.ownership"),
        (("company", "modalities"), ["telepathy"], "company.modalities"),
        (("company", "modalities"), "cell_therapy", "company.modalities"),
        (("company", "headcount"), 12, "company.headcount"),
        (("events",), {"kind": "investment"}, "events"),
        (("events", 0), "market_authorization", "events[0]"),
        (("events", 0, "kind"), "lottery_win", "events[0].kind"),
        (("events", 0, "kind"), ["market_authorization"], "events[0].kind"),
        (("events", 0, "date"), "2023-5-10", "events[0].date"),
        (("events", 0, "date"), None, "events[0].date"),
        (("events", 0, "modality"), "alchemy", "events[0].modality"),
        (("events", 0, "commercialized_in"), "atlantis", "events[0].commercialized_in"),
        (("events", 0, "product"), "P\x001", "events[0].product"),
        (("events", 0, "product"), "", "events[0].product"),
        (("events", 0, "product"), "x" * 201, "events[0].product"),
        (("events", 0, "reference"), "events[1]", "events[1].reference"),
        (("events", 0, "color"), "red", "events[0].color"),
        (("events", 1, "amount"), "-1", "events[1].amount"),
        (("events", 1, "amount"), "NaN", "events[1].amount"),
        (("events", 1, "amount"), "Infinity", "events[1].amount"),
        (("events", 1, "amount"), "1e6", "events[1].amount"),
        (("events", 1, "amount"), "9" * 40, "events[1].amount"),
        (("events", 1, "amount"), "1000000000000001", "events[1].amount"),
        (("events", 1, "amount"), "800000.001", "events[1].amount"),
        (("events", 1, "amount"), " 800000", "events[1].amount"),
        (("events", 1, "amount"), 800000.5, "events[1].amount"),
        (("events", 1, "amount"), True, "events[1].amount"),
        (("events", 1, "amount"), "8\x00", "events[1].amount"),
        (("events", 1, "currency"), "RMB", "events[1].currency"),
        (("events", 1, "currency"), "cny", "events[1].currency"),
        (("events", 1, "currency"), None, "events[1].currency"),
    ],
)
def test_malformed_input_names_the_field(path, value, field):
    errors = errors_for(with_change(path, value))
    assert list(errors) == [field]
    assert errors[field]


def test_amount_error_message():
    errors = errors_for(with_change(("events", 1, "amount"), "-800000"))
    assert errors == {"events[1].amount": ["must be a non-negative decimal number"]}


def test_missing_required_keys():
    assert set(errors_for({})) == {"as_of", "company", "events"}
    assert set(errors_for(with_change(("events", 0), {"product": "P1"}))) == {
        "events[0].kind",
        "events[0].date",
    }


def test_all_errors_are_collected():
    data = copy.deepcopy(EXAMPLE)
    data["as_of"] = "yesterday"
    data["company"]["ownership"] = "pirate"
    data["events"][0]["kind"] = "rumour"
    data["events"][1]["amount"] = "-5"
    assert set(errors_for(data)) == {
        "as_of",
        "company.ownership",
        "events[0].kind",
        "events[1].amount",
    }


def test_top_level_must_be_an_object():
    assert errors_for(["not", "an", "object"]) == {"scenario": ["must be an object"]}
    assert list(errors_for({**EXAMPLE, "extra": 1})) == ["extra"]


def test_too_many_events():
    data = with_change(("events",), [EXAMPLE["events"][1]] * 1001)
    assert list(errors_for(data)) == ["events"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["shanghai", "cell_therapy", "2023-01-01", "market_authorization", "CNY"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["kind", "date", "amount", "currency", "product", "modality", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(
    path=st.sampled_from(
        [
            ("as_of",),
            ("company",),
            ("company", "registered_region"),
            ("company", "modalities"),
            ("events",),
            ("events", 0),
            ("events", 0, "modality"),
            ("events", 1, "amount"),
            ("events", 1, "currency"),
        ]
    ),
    value=json_values,
)
def test_parser_only_raises_scenario_error(path, value):
    try:
        facts = parse_scenario(with_change(path, value), REGION_PATHS)
    except ScenarioError as error:
        assert error.errors
        assert all(isinstance(msgs, list) and msgs for msgs in error.errors.values())
    else:
        assert isinstance(facts, Facts)


@given(data=json_values)
def test_arbitrary_documents_only_raise_scenario_error(data):
    with contextlib.suppress(ScenarioError):
        parse_scenario(data, REGION_PATHS)
