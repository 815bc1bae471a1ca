"""Rule data model: parsing, validation messages with field paths, task-11 rule data and docs."""

import copy
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.engine import (
    RuleValidationError,
    parse_cap_group,
    parse_rule,
    validate_rule_data,
)
from policies.engine.task11 import (
    ANNUAL_ENTITY_CAP,
    LIABILITY_INSURANCE_RULE,
    PRODUCT_SUPPORT_RULE,
    TASK_11_TEXT,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs" / "subsidy-rules.md"


def _messages(conditions, benefit) -> list[str]:
    return [str(issue) for issue in validate_rule_data(conditions, benefit)]


def test_product_rule_parses():
    rule = parse_rule(PRODUCT_SUPPORT_RULE)
    assert rule.code == "sh-cell-therapy-2022-product-support"
    assert rule.effective_from == date(2022, 11, 10)
    assert rule.effective_to == date(2024, 12, 31)
    assert rule.benefit.kind == "up_to"
    assert rule.benefit.item == "product"
    assert rule.benefit.amount == Decimal("30000000")
    assert rule.cap_group == "sh-cell-therapy-2022-annual-entity-cap"
    assert rule.provision.path == "IV.11"


def test_insurance_rule_parses():
    rule = parse_rule(LIABILITY_INSURANCE_RULE)
    assert rule.benefit.kind == "percentage"
    assert rule.benefit.rate == Decimal("0.5")
    assert rule.benefit.item_cap == Decimal("500000")
    assert rule.cap_group is None


def test_cap_group_parses():
    group = parse_cap_group(ANNUAL_ENTITY_CAP)
    assert group.amount == Decimal("100000000")
    assert group.currency == "CNY"
    assert group.period == "calendar_year"


def test_task11_text_and_excerpts_are_verbatim_from_the_source():
    source = (REPO_ROOT / PRODUCT_SUPPORT_RULE["provision"]["source_file"]).read_text("utf-8")
    assert TASK_11_TEXT in source
    for rule in (PRODUCT_SUPPORT_RULE, LIABILITY_INSURANCE_RULE):
        assert rule["provision"]["excerpt"] in rule["provision"]["text"]
        assert rule["provision"]["source_title"] in source
    assert "up to 30 million yuan" in PRODUCT_SUPPORT_RULE["provision"]["excerpt"]
    assert "not exceed 100 million yuan" in PRODUCT_SUPPORT_RULE["provision"]["excerpt"]
    assert "500,000 yuan per policy" in LIABILITY_INSURANCE_RULE["provision"]["excerpt"]


def test_docs_json_matches_the_fixture_rules():
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text("utf-8"), flags=re.DOTALL)
    documented = [json.loads(block) for block in blocks]
    assert PRODUCT_SUPPORT_RULE in documented
    assert LIABILITY_INSURANCE_RULE in documented
    assert ANNUAL_ENTITY_CAP in documented


def test_valid_conditions_and_benefit_have_no_issues():
    fixed = {"kind": "fixed", "amount": "1"}
    assert validate_rule_data(PRODUCT_SUPPORT_RULE["conditions"], fixed) == []
    assert _messages(PRODUCT_SUPPORT_RULE["conditions"], PRODUCT_SUPPORT_RULE["benefit"]) == []


def test_unknown_op_names_the_path_and_the_allowed_ops():
    conditions = [{"fact": "event.kind", "op": "like", "value": "investment"}]
    messages = _messages(conditions, {"kind": "fixed", "amount": "1"})
    assert messages == ["conditions[0].op: 'like' is not one of eq, in, within, >=, >, <=, <"]


def test_op_not_allowed_for_fact():
    conditions = [
        {"fact": "event.kind", "op": "eq", "value": "investment"},
        {"fact": "company.ownership", "op": "within", "value": "domestic"},
    ]
    assert _messages(conditions, {"kind": "fixed", "amount": "1"}) == [
        "conditions[1].op: 'within' cannot be used with company.ownership; use eq, in"
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"fact": "company.size", "op": "eq", "value": "x"}, "conditions[1].fact"),
        ({"fact": "company.ownership", "op": "in", "value": ["private"]}, "conditions[1].value[0]"),
        ({"fact": "company.ownership", "op": "in", "value": []}, "conditions[1].value"),
        ({"fact": "event.amount", "op": ">=", "value": "-5"}, "conditions[1].value"),
        ({"fact": "event.amount", "op": ">=", "value": 1.5}, "conditions[1].value"),
        ({"fact": "event.located_in", "op": "within", "value": "Shang Hai"}, "conditions[1].value"),
        ({"fact": "event.kind", "op": "eq", "value": "lottery"}, "conditions[1].value"),
        ({"fact": "event.kind", "op": "eq"}, "conditions[1].value"),
        ({"fact": "event.kind", "op": "eq", "value": "investment", "x": 1}, "conditions[1].x"),
        ("company.ownership == domestic", "conditions[1]"),
        ({"fact": ["event.kind"], "op": "eq", "value": "investment"}, "conditions[1].fact"),
    ],
)  # fmt: skip
def test_bad_condition_names_the_field(condition, expected):
    conditions = [{"fact": "event.kind", "op": "eq", "value": "investment"}, condition]
    issues = validate_rule_data(conditions, {"kind": "fixed", "amount": "1"})
    assert [issue.path for issue in issues] == [expected]


def test_conditions_must_name_an_event_kind():
    conditions = [{"fact": "company.registered_region", "op": "within", "value": "shanghai"}]
    assert _messages(conditions, {"kind": "fixed", "amount": "1"}) == [
        "conditions: must include an event.kind condition"
    ]


@pytest.mark.parametrize(
    ("benefit", "expected"),
    [
        ({"kind": "lump"}, ["benefit.kind"]),
        ({"kind": "fixed"}, ["benefit.amount"]),
        ({"kind": "fixed", "amount": "NaN"}, ["benefit.amount"]),
        ({"kind": "up_to", "amount": "1e9"}, ["benefit.amount"]),
        ({"kind": "percentage"}, ["benefit.rate"]),
        ({"kind": "percentage", "rate": "1.5"}, ["benefit.rate"]),
        ({"kind": "percentage", "rate": "0.5", "item_cap": "-1"}, ["benefit.item_cap"]),
        ({"kind": "percentage", "rate": "0.5", "amount": "1"}, ["benefit.amount"]),
        ({"kind": "fixed", "amount": "1", "item": "policy"}, ["benefit.item"]),
        ("30000000", ["benefit"]),
    ],
)
def test_bad_benefit_names_the_field(benefit, expected):
    conditions = [{"fact": "event.kind", "op": "eq", "value": "investment"}]
    assert [issue.path for issue in validate_rule_data(conditions, benefit)] == expected


def test_parse_rule_collects_every_issue():
    data = copy.deepcopy(PRODUCT_SUPPORT_RULE)
    data["code"] = "Bad Code"
    data["currency"] = "RMB"
    data["effective_to"] = "2021-01-01"
    data["provision"]["excerpt"] = "not in the text"
    data["conditions"][0]["op"] = "near"
    data["extra"] = True
    with pytest.raises(RuleValidationError) as raised:
        parse_rule(data)
    paths = [issue.path for issue in raised.value.issues]
    assert sorted(paths) == sorted(
        [
            "extra",
            "code",
            "currency",
            "effective_to",
            "provision.excerpt",
            "conditions[0].op",
        ]
    )
    assert "provision.excerpt: must appear verbatim in provision.text" in str(raised.value)


def test_parse_rule_requires_fields():
    with pytest.raises(RuleValidationError) as raised:
        parse_rule({})
    paths = {issue.path for issue in raised.value.issues}
    required = {"code", "name", "provision", "effective_from", "currency", "conditions", "benefit"}
    assert required <= paths


def test_parse_rule_rejects_non_mapping():
    with pytest.raises(RuleValidationError):
        parse_rule(["not", "a", "rule"])


def test_cap_group_validation():
    with pytest.raises(RuleValidationError) as raised:
        parse_cap_group({"code": "x", "amount": "-1", "currency": "CNY", "period": "month"})
    assert {issue.path for issue in raised.value.issues} == {"amount", "period"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    key=st.sampled_from(sorted(PRODUCT_SUPPORT_RULE)),
    value=json_values,
)
def test_parse_rule_only_raises_validation_errors(key, value):
    data = copy.deepcopy(PRODUCT_SUPPORT_RULE)
    data[key] = value
    try:
        parse_rule(data)
    except RuleValidationError as error:
        assert error.issues


@given(conditions=json_values, benefit=json_values)
def test_validate_rule_data_never_crashes(conditions, benefit):
    assert isinstance(validate_rule_data(conditions, benefit), list)
