"""Hand-computed expectations for the two task-11 rules (Shanghai cell therapy plan 2022-2024).

Product support: up to CNY 30,000,000 per product, CNY 100,000,000 per entity per year.
Liability insurance: 50% of the premium, at most CNY 500,000 per policy.
"""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from policies.engine import (
    CompanyFacts,
    Event,
    Facts,
    RegionRef,
    Status,
    evaluate,
    parse_cap_group,
    parse_rule,
)
from policies.engine.evaluate import YearAmounts
from policies.engine.task11 import (
    ANNUAL_ENTITY_CAP,
    LIABILITY_INSURANCE_RULE,
    PRODUCT_SUPPORT_RULE,
)

REGIONS = {
    "china": ("china",),
    "shanghai": ("china", "shanghai"),
    "pudong": ("china", "shanghai", "pudong"),
    "beijing": ("china", "beijing"),
}
PRODUCT = parse_rule(PRODUCT_SUPPORT_RULE)
INSURANCE = parse_rule(LIABILITY_INSURANCE_RULE)
CAP = parse_cap_group(ANNUAL_ENTITY_CAP)
M = Decimal(1_000_000)


def region(slug: str) -> RegionRef:
    return RegionRef(slug, REGIONS[slug])


def company(registered: str | None = "shanghai", modalities=("cell_therapy",)) -> CompanyFacts:
    return CompanyFacts(
        registered_region=region(registered) if registered else None,
        ownership="domestic",
        modalities=frozenset(modalities),
    )


def authorization(
    ref: str, day: date, product: str | None, commercialized_in="shanghai", modality=None
) -> Event:
    return Event(
        kind="market_authorization",
        date=day,
        reference=ref,
        product=product,
        modality=frozenset(modality or ("cell_therapy",)),
        commercialized_in=region(commercialized_in) if commercialized_in else None,
    )


def premium(ref: str, day: date, amount: str | None, currency: str | None = "CNY") -> Event:
    return Event(
        kind="liability_insurance_premium",
        date=day,
        reference=ref,
        amount=None if amount is None else Decimal(amount),
        currency=currency,
    )


def run(events, *, company_facts=None, as_of=date(2024, 12, 31)):
    facts = Facts(as_of=as_of, company=company_facts or company(), events=tuple(events))
    return evaluate(facts, [PRODUCT, INSURANCE], [CAP])


def reason_codes(result) -> list[str]:
    return [reason.code for reason in result.reasons]


# --- product support -----------------------------------------------------------------------


def test_one_product_gets_the_30m_ceiling():
    estimate = run([authorization("ma-1", date(2023, 5, 10), "P1")])
    result = estimate.result(PRODUCT.code)
    assert result.status is Status.ELIGIBLE
    assert result.amount_before_caps == 30 * M
    assert result.amount_after_caps == 30 * M
    assert result.by_year[2023].after_caps == 30 * M
    assert "up_to_ceiling" in reason_codes(result)  # the estimate is a ceiling and says so
    assert estimate.total == 30 * M
    assert estimate.by_year == {2023: 30 * M}


def test_four_products_in_one_year_hit_the_annual_entity_cap():
    events = [authorization(f"ma-{n}", date(2023, n, 1), f"P{n}") for n in (1, 2, 3, 4)]
    result = run(events).result(PRODUCT.code)
    assert result.status is Status.CAPPED
    assert result.amount_before_caps == 120 * M
    assert result.amount_after_caps == 100 * M
    # First come first served by date: P1-P3 in full, P4 gets the remaining 10M.
    assert [item.amount_after_caps for item in result.items] == [30 * M, 30 * M, 30 * M, 10 * M]
    assert result.items[3].capped_by == (CAP.code,)
    cap_reasons = [r for r in result.reasons if r.code == "cap_group"]
    assert len(cap_reasons) == 1
    assert cap_reasons[0].subject == "sh-cell-therapy-2022-annual-entity-cap"
    (cap,) = result.caps
    assert (cap.year, cap.limit, cap.before, cap.after, cap.bound) == (
        2023, 100 * M, 120 * M, 100 * M, True,
    )  # fmt: skip


def test_annual_cap_is_per_calendar_year():
    events = [authorization(f"a{n}", date(2023, n, 1), f"A{n}") for n in range(1, 5)]
    events += [authorization(f"b{n}", date(2024, n, 1), f"B{n}") for n in range(1, 3)]
    result = run(events).result(PRODUCT.code)
    assert result.status is Status.CAPPED
    assert result.by_year[2023].before_caps == 120 * M
    assert result.by_year[2023].after_caps == 100 * M
    assert result.by_year[2024].before_caps == 60 * M
    assert result.by_year[2024].after_caps == 60 * M
    assert result.amount_after_caps == 160 * M
    assert [(cap.year, cap.bound) for cap in result.caps] == [(2023, True), (2024, False)]


def test_products_across_two_years_below_the_cap():
    events = [
        authorization("x", date(2023, 2, 1), "P1"),
        authorization("y", date(2023, 9, 1), "P2"),
        authorization("z", date(2024, 3, 1), "P3"),
    ]
    estimate = run(events)
    result = estimate.result(PRODUCT.code)
    assert result.status is Status.ELIGIBLE
    assert result.amount_after_caps == 90 * M
    assert estimate.by_year == {2023: 60 * M, 2024: 30 * M}


def test_same_product_authorized_twice_counts_once():
    events = [
        authorization("second", date(2024, 2, 1), "P1"),
        authorization("first", date(2023, 2, 1), "P1"),
    ]
    result = run(events).result(PRODUCT.code)
    assert result.amount_after_caps == 30 * M
    assert [item.reference for item in result.items] == ["first"]
    assert "duplicate_product" in reason_codes(result)


def test_pudong_company_is_within_shanghai_and_car_t_is_cell_therapy():
    event = authorization("ma", date(2023, 5, 1), "P1", modality=("car_t", "cell_therapy"))
    result = run([event], company_facts=company("pudong")).result(PRODUCT.code)
    assert result.status is Status.ELIGIBLE
    assert result.amount_after_caps == 30 * M


def test_company_registered_outside_shanghai_is_ineligible():
    estimate = run(
        [authorization("ma", date(2023, 5, 1), "P1"), premium("pr", date(2023, 5, 1), "800000")],
        company_facts=company("beijing"),
    )
    for code in (PRODUCT.code, INSURANCE.code):
        result = estimate.result(code)
        assert result.status is Status.INELIGIBLE
        assert result.amount_after_caps == 0
        failed = [r for r in result.reasons if r.code == "condition_failed"]
        assert len(failed) == 1
        assert "company.registered_region" in failed[0].message
        check = next(c for c in result.conditions if c.fact == "company.registered_region")
        assert (check.outcome, check.actual) == ("fail", ["china", "beijing"])
    assert estimate.total == 0


def test_product_commercialized_outside_shanghai_is_ineligible():
    event = authorization("ma", date(2023, 5, 1), "P1", commercialized_in="beijing")
    result = run([event]).result(PRODUCT.code)
    assert result.status is Status.INELIGIBLE
    assert result.amount_after_caps == 0
    assert reason_codes(result) == ["condition_failed"]
    assert "event.commercialized_in" in result.reasons[0].message
    assert result.reasons[0].subject == "ma"


def test_non_cell_therapy_product_is_ineligible():
    event = authorization("ma", date(2023, 5, 1), "P1", modality=("small_molecule",))
    result = run([event]).result(PRODUCT.code)
    assert result.status is Status.INELIGIBLE
    assert "event.modality" in result.reasons[0].message


def test_product_events_outside_the_effective_period():
    events = [
        authorization("early", date(2022, 11, 9), "P1"),  # day before publication
        authorization("late", date(2025, 1, 1), "P2"),  # after the 2022-2024 plan period
    ]
    result = run(events, as_of=date(2025, 6, 30)).result(PRODUCT.code)
    assert result.status is Status.INELIGIBLE
    assert reason_codes(result) == ["outside_effective_period", "outside_effective_period"]


def test_first_and_last_day_of_the_period_count():
    events = [
        authorization("first", date(2022, 11, 10), "P1"),
        authorization("last", date(2024, 12, 31), "P2"),
    ]
    result = run(events).result(PRODUCT.code)
    assert result.status is Status.ELIGIBLE
    assert result.by_year == {
        2022: YearAmounts(before_caps=30 * M, after_caps=30 * M),
        2024: YearAmounts(before_caps=30 * M, after_caps=30 * M),
    }


def test_events_after_as_of_are_ignored_and_traced():
    result = run(
        [authorization("future", date(2024, 3, 1), "P1")], as_of=date(2023, 12, 31)
    ).result(PRODUCT.code)
    assert result.status is Status.INELIGIBLE
    assert reason_codes(result) == ["after_as_of"]
    (check,) = [c for c in result.conditions if c.subject == "future"]
    assert (check.fact, check.outcome, check.implicit) == ("event.date", "ignored", True)


def test_no_registered_region_is_missing_input():
    estimate = run(
        [authorization("ma", date(2023, 5, 1), "P1"), premium("pr", date(2023, 5, 1), "800000")],
        company_facts=company(None),
    )
    for code in (PRODUCT.code, INSURANCE.code):
        result = estimate.result(code)
        assert result.status is Status.MISSING_INPUT
        assert result.amount_after_caps == 0
        missing = [r for r in result.reasons if r.code == "missing_input"]
        assert [r.message for r in missing] == ["company: company.registered_region is unknown"]


def test_product_without_product_id_is_missing_input():
    result = run([authorization("ma", date(2023, 5, 1), None)]).result(PRODUCT.code)
    assert result.status is Status.MISSING_INPUT
    assert [r.message for r in result.reasons] == ["ma: product is missing"]


def test_no_events_is_ineligible_with_reason():
    result = run([]).result(PRODUCT.code)
    assert result.status is Status.INELIGIBLE
    assert reason_codes(result) == ["no_qualifying_event"]


# --- liability insurance ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "subsidy", "status"),
    [
        ("800000", "400000", Status.ELIGIBLE),
        ("1000000", "500000", Status.ELIGIBLE),  # exactly at the cap: not capped
        ("1200000", "500000", Status.CAPPED),
        ("0.03", "0.02", Status.ELIGIBLE),  # 0.015 rounds half up to 0.02
        ("0", "0", Status.ELIGIBLE_ZERO),
    ],
)
def test_premium_subsidy(paid, subsidy, status):
    result = run([premium("policy-1", date(2023, 3, 1), paid)]).result(INSURANCE.code)
    assert result.status is status
    assert result.amount_after_caps == Decimal(subsidy)
    assert result.amount_before_caps == (Decimal(paid) / 2).quantize(Decimal("0.01"))


def test_capped_premium_names_the_item_cap():
    result = run([premium("policy-1", date(2023, 3, 1), "1200000")]).result(INSURANCE.code)
    (cap,) = result.caps
    assert (cap.kind, cap.subject, cap.limit, cap.before, cap.after, cap.bound) == (
        "item_cap", "policy-1", Decimal(500_000), Decimal(600_000), Decimal(500_000), True,
    )  # fmt: skip
    assert result.items[0].capped_by == ("item_cap",)
    assert reason_codes(result) == ["item_cap"]


def test_several_policies_in_one_year():
    events = [
        premium("a", date(2023, 1, 15), "800000"),  # 400,000
        premium("b", date(2023, 6, 1), "1200000"),  # 600,000 -> 500,000
        premium("c", date(2023, 9, 1), "300000"),  # 150,000
    ]
    result = run(events).result(INSURANCE.code)
    assert result.status is Status.CAPPED
    assert result.amount_before_caps == Decimal(1_150_000)
    assert result.amount_after_caps == Decimal(1_050_000)
    assert result.by_year[2023].after_caps == Decimal(1_050_000)


def test_premium_without_amount_is_missing_input():
    result = run([premium("pr", date(2023, 3, 1), None)]).result(INSURANCE.code)
    assert result.status is Status.MISSING_INPUT
    assert [r.message for r in result.reasons] == ["pr: amount is missing"]


def test_premium_in_another_currency_is_not_converted():
    result = run([premium("pr", date(2023, 3, 1), "100000", "USD")]).result(INSURANCE.code)
    assert result.status is Status.MISSING_INPUT
    assert result.amount_after_caps == 0
    assert reason_codes(result) == ["currency_mismatch"]
    assert "USD" in result.reasons[0].message


def test_one_missing_premium_does_not_hide_the_others():
    events = [premium("ok", date(2023, 3, 1), "800000"), premium("bad", date(2023, 4, 1), None)]
    result = run(events).result(INSURANCE.code)
    assert result.status is Status.ELIGIBLE
    assert result.amount_after_caps == Decimal(400_000)
    assert reason_codes(result) == ["missing_input"]


def test_insurance_needs_cell_therapy_company():
    events = [premium("pr", date(2023, 3, 1), "800000")]
    other = run(events, company_facts=company(modalities=("small_molecule",)))
    assert other.result(INSURANCE.code).status is Status.INELIGIBLE
    unknown = run(events, company_facts=company(modalities=()))
    assert unknown.result(INSURANCE.code).status is Status.MISSING_INPUT


def test_premium_outside_the_period_is_ineligible():
    result = run([premium("pr", date(2022, 1, 1), "800000")]).result(INSURANCE.code)
    assert result.status is Status.INELIGIBLE
    assert reason_codes(result) == ["outside_effective_period"]


def test_insurance_is_not_in_the_annual_entity_cap():
    # 4 products fill the 2023 cap; the premium subsidy is a separate clause and still pays.
    events = [authorization(f"ma-{n}", date(2023, n, 1), f"P{n}") for n in (1, 2, 3, 4)]
    events.append(premium("pr", date(2023, 1, 1), "800000"))
    estimate = run(events)
    assert estimate.total == 100 * M + Decimal(400_000)
    assert estimate.by_year == {2023: 100 * M + Decimal(400_000)}


# --- output and citations -----------------------------------------------------------------


def test_to_dict_shape_and_json():
    estimate = run(
        [authorization("ma", date(2023, 5, 10), "P1"), premium("pr", date(2023, 3, 1), "1200000")]
    )
    data = json.loads(json.dumps(estimate.to_dict()))
    assert list(data) == ["as_of", "currency", "total", "by_year", "results"]
    assert data["as_of"] == "2024-12-31"
    assert data["currency"] == "CNY"
    assert data["total"] == "30500000.00"
    assert data["by_year"] == {"2023": "30500000.00"}
    result = next(r for r in data["results"] if r["rule"] == INSURANCE.code)
    assert set(result) >= {
        "rule", "name", "status", "reasons", "amount_before_caps", "amount_after_caps",
        "by_year", "items", "trace",
    }  # fmt: skip
    assert result["status"] == "capped"
    assert result["by_year"] == {
        "2023": {"amount_before_caps": "600000.00", "amount_after_caps": "500000.00"}
    }
    assert set(result["trace"]) == {"conditions", "caps", "citation"}
    assert result["trace"]["citation"]["path"] == "IV.11"
    assert result["items"][0]["date"] == "2023-03-01"


def test_every_paying_result_cites_a_verbatim_excerpt():
    events = [authorization(f"ma-{n}", date(2023, n, 1), f"P{n}") for n in (1, 2, 3, 4)]
    events += [premium("a", date(2023, 2, 1), "800000"), premium("b", date(2024, 2, 1), "2000000")]
    estimate = run(events)
    statuses = {result.status for result in estimate.results}
    assert statuses == {Status.CAPPED}
    for result in estimate.results:
        assert result.citation.path == "IV.11"
        assert result.citation.excerpt
        assert result.citation.excerpt in result.citation.text
        assert result.citation.source_file.endswith("002_1d63a8ab57155fe3.txt")


def test_shared_cap_group_allocates_by_date_across_rules():
    # A second, synthetic rule in the same group: the earlier item is served first.
    grant = parse_rule(
        {
            **PRODUCT_SUPPORT_RULE,
            "code": "synthetic-trial-grant",
            "conditions": [{"fact": "event.kind", "op": "eq", "value": "clinical_trial_approval"}],
            "benefit": {"kind": "fixed", "amount": "90000000"},
        }
    )
    trial = Event(kind="clinical_trial_approval", date=date(2023, 1, 5), reference="cta")
    events = (trial, authorization("ma", date(2023, 2, 1), "P1"))
    facts = Facts(as_of=date(2023, 12, 31), company=company(), events=events)
    estimate = evaluate(facts, [PRODUCT, grant], [CAP])
    assert estimate.result("synthetic-trial-grant").amount_after_caps == 90 * M
    assert estimate.result(PRODUCT.code).amount_after_caps == 10 * M
    assert estimate.result(PRODUCT.code).status is Status.CAPPED
    assert estimate.total == 100 * M


def test_inconsistent_rule_sets_raise():
    facts = Facts(as_of=date(2023, 12, 31), company=company())
    with pytest.raises(ValueError, match="unknown cap group"):
        evaluate(facts, [PRODUCT], [])
    with pytest.raises(ValueError, match="unique"):
        evaluate(facts, [PRODUCT, PRODUCT], [CAP])
    usd_rule = replace(INSURANCE, code="usd-rule", currency="USD")
    with pytest.raises(ValueError, match="same currency"):
        evaluate(facts, [INSURANCE, usd_rule], [CAP])
