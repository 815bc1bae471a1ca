"""Property tests: caps hold, order does not matter, premiums are monotone, nothing negative."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import (
    CompanyFacts,
    Event,
    Facts,
    RegionRef,
    evaluate,
    parse_cap_group,
    parse_rule,
)
from policies.engine.task11 import (
    ANNUAL_ENTITY_CAP,
    LIABILITY_INSURANCE_RULE,
    PRODUCT_SUPPORT_RULE,
)

REGIONS = {
    "shanghai": RegionRef("shanghai", ("china", "shanghai")),
    "pudong": RegionRef("pudong", ("china", "shanghai", "pudong")),
    "beijing": RegionRef("beijing", ("china", "beijing")),
}
PRODUCT = parse_rule(PRODUCT_SUPPORT_RULE)
INSURANCE = parse_rule(LIABILITY_INSURANCE_RULE)
CAP = parse_cap_group(ANNUAL_ENTITY_CAP)
# A synthetic rule sharing the cap group, so allocation across rules is exercised too.
GRANT = parse_rule(
    {
        **PRODUCT_SUPPORT_RULE,
        "code": "synthetic-trial-grant",
        "conditions": [{"fact": "event.kind", "op": "eq", "value": "clinical_trial_approval"}],
        "benefit": {"kind": "fixed", "amount": "45000000.50"},
    }
)
RULES = [PRODUCT, INSURANCE, GRANT]
PER_POLICY_CAP = Decimal(500_000)

days = st.integers(min_value=0, max_value=4 * 366).map(lambda n: date(2022, 1, 1) + timedelta(n))
premium_amounts = st.decimals(
    min_value=0, max_value=Decimal("3000000"), places=2, allow_nan=False, allow_infinity=False
)


@st.composite
def events(draw) -> list[Event]:
    drawn = []
    count = draw(st.integers(min_value=0, max_value=12))
    for index in range(count):
        kind = draw(
            st.sampled_from(
                ["market_authorization", "liability_insurance_premium", "clinical_trial_approval"]
            )
        )
        ref = f"e{index}"
        if kind == "market_authorization":
            event = Event(
                kind=kind,
                date=draw(days),
                reference=ref,
                product=draw(st.sampled_from(["P1", "P2", "P3", "P4", "P5", None])),
                modality=frozenset(draw(st.sampled_from([["cell_therapy"], ["small_molecule"]]))),
                commercialized_in=REGIONS[draw(st.sampled_from(sorted(REGIONS)))],
            )
        elif kind == "liability_insurance_premium":
            event = Event(
                kind=kind,
                date=draw(days),
                reference=ref,
                amount=draw(st.none() | premium_amounts),
                currency=draw(st.sampled_from(["CNY", "CNY", "CNY", "USD"])),
            )
        else:
            event = Event(kind=kind, date=draw(days), reference=ref)
        drawn.append(event)
    return drawn


def estimate_for(event_list, registered="shanghai"):
    company = CompanyFacts(REGIONS[registered], "domestic", frozenset({"cell_therapy"}))
    facts = Facts(as_of=date(2025, 6, 30), company=company, events=tuple(event_list))
    return evaluate(facts, RULES, [CAP])


@settings(max_examples=200, deadline=None)
@given(event_list=events())
def test_caps_are_never_exceeded(event_list):
    estimate = estimate_for(event_list)
    group_by_year: dict[int, Decimal] = defaultdict(Decimal)
    for result in estimate.results:
        assert result.amount_after_caps <= result.amount_before_caps
        for item in result.items:
            assert item.amount_after_caps <= item.amount_before_caps
            if result.rule == INSURANCE.code:
                assert item.amount_after_caps <= PER_POLICY_CAP
            if result.rule == PRODUCT.code:
                assert item.amount_after_caps <= Decimal(30_000_000)
        if result.rule in (PRODUCT.code, GRANT.code):
            for year, amounts in result.by_year.items():
                group_by_year[year] += amounts.after_caps
    for total in group_by_year.values():
        assert total <= CAP.amount
    assert estimate.total == sum(estimate.by_year.values(), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(event_list=events(), data=st.data())
def test_results_do_not_depend_on_event_order(event_list, data):
    shuffled = data.draw(st.permutations(event_list))
    assert estimate_for(shuffled).to_dict() == estimate_for(event_list).to_dict()


@given(low=premium_amounts, high=premium_amounts, day=days)
def test_premium_subsidy_is_monotone_up_to_the_cap(low, high, day):
    low, high = sorted((low, high))
    day = max(day, date(2022, 11, 10))

    def subsidy(amount):
        event = Event(
            kind="liability_insurance_premium",
            date=min(day, date(2024, 12, 31)),
            reference="p",
            amount=amount,
            currency="CNY",
        )
        return estimate_for([event]).result(INSURANCE.code).amount_after_caps

    assert subsidy(low) <= subsidy(high) <= PER_POLICY_CAP
    half = (high / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert subsidy(high) == min(half, PER_POLICY_CAP)


def _money_values(data):
    money_keys = {"total", "amount_before_caps", "amount_after_caps", "before", "after", "limit"}
    if isinstance(data, dict):
        for key, value in data.items():
            if key in money_keys and isinstance(value, str):
                yield Decimal(value)
            elif key == "by_year" and all(isinstance(v, str) for v in value.values()):
                yield from (Decimal(v) for v in value.values())
            else:
                yield from _money_values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _money_values(value)


@settings(max_examples=200, deadline=None)
@given(event_list=events(), registered=st.sampled_from(sorted(REGIONS)))
def test_amounts_are_never_negative(event_list, registered):
    values = list(_money_values(estimate_for(event_list, registered).to_dict()))
    assert values  # at least the total
    assert all(value >= 0 for value in values)
