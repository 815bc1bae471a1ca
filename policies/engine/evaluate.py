"""Evaluate subsidy rules against facts: reason-coded results, per-year amounts and a trace.

Order of work, per rule:
1. company conditions, checked once (subject "company");
2. each event on or before `as_of`, sorted (see `_event_sort_key`), whose kind matches the
   rule: implicit effective-period check, the event conditions, then the inputs the benefit
   needs (product for per-product items; amount and currency for percentages);
3. one item per qualifying event, or per product (first qualifying event wins);
4. the per-item cap, then the aggregate cap group per calendar year of the item's date,
   allocated first come first served by (date, rule code, product, reference).
Sorting events first makes every result independent of the order events were given in.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from .facts import MAX_AMOUNT, CompanyFacts, Event, Facts, RegionRef
from .rules import CapGroup, Condition, Provision, Rule

CENT = Decimal("0.01")
ZERO = Decimal(0)


class Status(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    ELIGIBLE_ZERO = "eligible_zero"
    CAPPED = "capped"
    MISSING_INPUT = "missing_input"


class Outcome(StrEnum):
    PASSED = "pass"
    FAILED = "fail"
    MISSING = "missing"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Reason:
    """Why a result is what it is. `subject`: "company", an event reference or a cap code."""

    code: str
    message: str
    subject: str | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "subject": self.subject}


@dataclass(frozen=True)
class ConditionCheck:
    """One condition checked against one subject, with the fact value it used."""

    subject: str
    fact: str
    op: str
    value: str | list[str] | None
    actual: str | list[str] | None
    outcome: Outcome
    implicit: bool = False  # added by the engine (period, as_of, required inputs)

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "fact": self.fact,
            "op": self.op,
            "value": self.value,
            "actual": self.actual,
            "outcome": str(self.outcome),
            "implicit": self.implicit,
        }


@dataclass(frozen=True)
class CapApplication:
    """A cap applied to this rule: per item (subject = event) or cap group (per year)."""

    kind: str  # item_cap | cap_group
    code: str | None  # cap group code; None for an item cap
    subject: str  # event reference, or the cap group code
    year: int
    limit: Decimal
    before: Decimal
    after: Decimal
    bound: bool
    group_total_before: Decimal | None = None  # all rules in the group that year

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "code": self.code,
            "subject": self.subject,
            "year": self.year,
            "limit": _money(self.limit),
            "before": _money(self.before),
            "after": _money(self.after),
            "bound": self.bound,
            "group_total_before": _money_or_none(self.group_total_before),
        }


@dataclass(frozen=True)
class Item:
    """One countable unit of benefit: a qualifying event, or a product's first event."""

    reference: str
    date: date
    product: str | None
    basis: str  # fixed | up_to_ceiling | percentage
    base_amount: Decimal | None  # the event amount a percentage applies to
    amount_before_caps: Decimal
    amount_after_caps: Decimal
    capped_by: tuple[str, ...] = ()  # "item_cap" and/or cap group codes

    def to_dict(self) -> dict:
        return {
            "reference": self.reference,
            "date": self.date.isoformat(),
            "year": self.date.year,
            "product": self.product,
            "basis": self.basis,
            "base_amount": _money_or_none(self.base_amount),
            "amount_before_caps": _money(self.amount_before_caps),
            "amount_after_caps": _money(self.amount_after_caps),
            "capped_by": list(self.capped_by),
        }


@dataclass(frozen=True)
class YearAmounts:
    before_caps: Decimal
    after_caps: Decimal

    def to_dict(self) -> dict:
        return {
            "amount_before_caps": _money(self.before_caps),
            "amount_after_caps": _money(self.after_caps),
        }


@dataclass(frozen=True)
class RuleResult:
    rule: str
    name: str
    status: Status
    currency: str
    reasons: tuple[Reason, ...]
    amount_before_caps: Decimal
    amount_after_caps: Decimal
    by_year: dict[int, YearAmounts]
    items: tuple[Item, ...]
    conditions: tuple[ConditionCheck, ...]
    caps: tuple[CapApplication, ...]
    citation: Provision

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "status": str(self.status),
            "currency": self.currency,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "amount_before_caps": _money(self.amount_before_caps),
            "amount_after_caps": _money(self.amount_after_caps),
            "by_year": {str(year): amounts.to_dict() for year, amounts in self.by_year.items()},
            "items": [item.to_dict() for item in self.items],
            "trace": {
                "conditions": [check.to_dict() for check in self.conditions],
                "caps": [cap.to_dict() for cap in self.caps],
                "citation": {
                    "path": self.citation.path,
                    "excerpt": self.citation.excerpt,
                    "text": self.citation.text,
                    "source_title": self.citation.source_title,
                    "source_file": self.citation.source_file,
                },
            },
        }


@dataclass(frozen=True)
class Estimate:
    as_of: date
    currency: str | None  # None only when no rules were given
    total: Decimal
    by_year: dict[int, Decimal]
    results: tuple[RuleResult, ...]

    def result(self, rule_code: str) -> RuleResult:
        """The result for one rule code (KeyError if absent)."""
        for result in self.results:
            if result.rule == rule_code:
                return result
        raise KeyError(rule_code)

    def to_dict(self) -> dict:
        """JSON-ready: Decimals as 2-decimal strings, dates ISO, years as string keys."""
        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "total": _money(self.total),
            "by_year": {str(year): _money(amount) for year, amount in self.by_year.items()},
            "results": [result.to_dict() for result in self.results],
        }


@dataclass
class _WorkItem:
    event: Event
    basis: str
    base_amount: Decimal | None
    before: Decimal
    after: Decimal
    capped_by: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    rule: Rule
    company_outcome: Outcome = Outcome.PASSED
    checks: list[ConditionCheck] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    items: list[_WorkItem] = field(default_factory=list)
    caps: list[CapApplication] = field(default_factory=list)
    relevant_events: int = 0
    missing_events: int = 0


def evaluate(facts: Facts, rules: Iterable[Rule], cap_groups: Iterable[CapGroup] = ()) -> Estimate:
    """Estimate the subsidies `facts` qualify for under `rules`, with caps applied.

    Raises ValueError for inconsistent rule sets (duplicate codes, unknown cap group, mixed
    currencies); problems with the facts never raise, they show up as reason-coded results.
    """
    rules = sorted(rules, key=lambda rule: rule.code)
    groups = {group.code: group for group in cap_groups}
    _check_rule_set(rules, groups)
    events = sorted(facts.events, key=_event_sort_key)
    with localcontext() as context:
        context.prec = 40  # amounts are <= 10^15 with 2 decimals: every operation is exact
        context.rounding = ROUND_HALF_UP
        drafts = [_evaluate_rule(rule, facts, events) for rule in rules]
        for code in sorted(groups):
            _apply_cap_group(groups[code], [d for d in drafts if d.rule.cap_group == code])
        results = tuple(_finish(draft) for draft in drafts)
    by_year: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for result in results:
        for year, amounts in result.by_year.items():
            by_year[year] += amounts.after_caps
    return Estimate(
        as_of=facts.as_of,
        currency=rules[0].currency if rules else None,
        total=sum((result.amount_after_caps for result in results), ZERO),
        by_year=dict(sorted(by_year.items())),
        results=results,
    )


def _check_rule_set(rules: list[Rule], groups: dict[str, CapGroup]) -> None:
    codes = [rule.code for rule in rules]
    if len(set(codes)) != len(codes):
        raise ValueError("rule codes must be unique")
    if len({rule.currency for rule in rules}) > 1:
        raise ValueError("all rules of one estimate must use the same currency")
    for rule in rules:
        if rule.cap_group is None:
            continue
        group = groups.get(rule.cap_group)
        if group is None:
            raise ValueError(f"rule {rule.code}: unknown cap group {rule.cap_group}")
        if group.currency != rule.currency:
            raise ValueError(f"rule {rule.code}: cap group {group.code} is in {group.currency}")


def _event_sort_key(event: Event) -> tuple:
    """Total order on events; identical keys mean interchangeable events."""
    return (
        event.date,
        event.product or "",
        event.reference,
        event.kind,
        str(event.amount),
        event.currency or "",
        tuple(sorted(event.modality)),
        event.commercialized_in.path if event.commercialized_in else (),
        event.located_in.path if event.located_in else (),
    )


# --- conditions --------------------------------------------------------------------------


def _fact_value(fact: str, company: CompanyFacts, event: Event | None) -> object:
    """The fact a condition reads; None when unknown (empty sets count as unknown)."""
    owner, attribute = fact.split(".", 1)
    value = getattr(company if owner == "company" else event, attribute)
    if isinstance(value, frozenset) and not value:
        return None
    return value


_THRESHOLDS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def _compare(condition: Condition, actual: object) -> bool:
    op, expected = condition.op, condition.value
    if op == "within":
        return isinstance(actual, RegionRef) and actual.within(str(expected))
    if op == "eq":
        return actual == expected
    if op == "in":
        if isinstance(actual, frozenset):
            return bool(actual & expected)  # sets match by intersection
        return actual in expected
    return _THRESHOLDS[op](actual, expected)  # actual is an event amount


def _display(value: object) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, RegionRef):
        return list(value.path)
    if isinstance(value, frozenset):
        return sorted(value)
    return str(value)


def _describe(value: object) -> str:
    """A fact value for a human-readable reason message."""
    if isinstance(value, RegionRef):
        return f"{value.slug} ({' > '.join(value.path)})"
    if isinstance(value, (frozenset, list)):
        return "{" + ", ".join(sorted(value)) + "}"
    return str(value)


def _amount_problem(event: Event, rule: Rule) -> tuple[str, str] | None:
    """Why the event amount cannot be used as an amount in the rule currency, or None."""
    if event.amount is None:
        return "missing_input", f"{event.reference}: amount is missing"
    if not event.amount.is_finite() or not ZERO <= event.amount <= MAX_AMOUNT:
        return "missing_input", f"{event.reference}: amount {event.amount} is not usable"
    if event.currency is None:
        return "missing_input", f"{event.reference}: currency of the amount is missing"
    if event.currency != rule.currency:
        # No silent conversion: the rule is denominated in its own currency only.
        return "currency_mismatch", (
            f"{event.reference}: amount is in {event.currency}, the rule needs {rule.currency}"
            " (no currency conversion is done)"
        )
    return None


def _check(
    draft: _Draft, condition: Condition, subject: str, company: CompanyFacts, event: Event | None
) -> Outcome:
    """Check one condition, record it in the trace and, if not passed, in the reasons."""
    actual = _fact_value(condition.fact, company, event)
    problem = None
    if condition.fact == "event.amount" and event is not None:
        problem = _amount_problem(event, draft.rule)
    if actual is None or problem is not None:
        outcome = Outcome.MISSING
        code, message = problem or ("missing_input", f"{subject}: {condition.fact} is unknown")
        draft.reasons.append(Reason(code, message, subject))
    elif _compare(condition, actual):
        outcome = Outcome.PASSED
    else:
        outcome = Outcome.FAILED
        draft.reasons.append(
            Reason(
                "condition_failed",
                f"{subject}: {condition.fact} is {_describe(actual)}, not {condition.op} "
                f"{_describe(condition.value_for_json())}",
                subject,
            )
        )
    draft.checks.append(
        ConditionCheck(
            subject,
            condition.fact,
            condition.op,
            condition.value_for_json(),
            _display(actual),
            outcome,
        )
    )
    return outcome


def _combine(outcomes: Iterable[Outcome]) -> Outcome:
    outcomes = set(outcomes)
    if Outcome.FAILED in outcomes:
        return Outcome.FAILED
    if Outcome.MISSING in outcomes:
        return Outcome.MISSING
    return Outcome.PASSED


# --- per rule ----------------------------------------------------------------------------


def _evaluate_rule(rule: Rule, facts: Facts, events: list[Event]) -> _Draft:
    draft = _Draft(rule)
    company_conditions = [c for c in rule.conditions if c.fact.startswith("company.")]
    draft.company_outcome = _combine(
        _check(draft, condition, "company", facts.company, None) for condition in company_conditions
    )
    qualifying = [event for event in events if _evaluate_event(draft, facts, event)]
    if draft.company_outcome is Outcome.PASSED:
        draft.items = _make_items(draft, qualifying)
    return draft


def _evaluate_event(draft: _Draft, facts: Facts, event: Event) -> bool:
    """Check one event against the rule; True if it qualifies for an item."""
    rule, ref = draft.rule, event.reference
    kind_conditions = [c for c in rule.conditions if c.fact == "event.kind"]
    if not all(_compare(c, event.kind) for c in kind_conditions):
        # Not the kind of event this rule is about: one trace line, no reasons.
        for condition in kind_conditions:
            draft.checks.append(
                ConditionCheck(
                    ref,
                    "event.kind",
                    condition.op,
                    condition.value_for_json(),
                    event.kind,
                    Outcome.PASSED if _compare(condition, event.kind) else Outcome.FAILED,
                )
            )
        return False
    draft.relevant_events += 1
    if event.date > facts.as_of:
        draft.checks.append(
            ConditionCheck(
                subject=ref,
                fact="event.date",
                op="<=",
                value=facts.as_of.isoformat(),
                actual=event.date.isoformat(),
                outcome=Outcome.IGNORED,
                implicit=True,
            )
        )
        draft.reasons.append(
            Reason("after_as_of", f"{ref}: dated {event.date}, after as_of; ignored", ref)
        )
        return False
    outcomes = [_check(draft, c, ref, facts.company, event) for c in kind_conditions]
    outcomes.append(_check_period(draft, event))
    event_conditions = [
        c for c in rule.conditions if c.fact.startswith("event.") and c.fact != "event.kind"
    ]
    outcomes += [_check(draft, c, ref, facts.company, event) for c in event_conditions]
    outcomes += _check_required_inputs(draft, event)
    outcome = _combine(outcomes)
    if outcome is Outcome.MISSING:
        draft.missing_events += 1
    return outcome is Outcome.PASSED


def _check_period(draft: _Draft, event: Event) -> Outcome:
    rule = draft.rule
    inside = rule.effective_from <= event.date and (
        rule.effective_to is None or event.date <= rule.effective_to
    )
    period = f"{rule.effective_from.isoformat()}..{_iso_or_open(rule.effective_to)}"
    outcome = Outcome.PASSED if inside else Outcome.FAILED
    draft.checks.append(
        ConditionCheck(
            subject=event.reference,
            fact="event.date",
            op="within_period",
            value=period,
            actual=event.date.isoformat(),
            outcome=outcome,
            implicit=True,
        )
    )
    if not inside:
        draft.reasons.append(
            Reason(
                "outside_effective_period",
                f"{event.reference}: dated {event.date}, outside the effective period {period}",
                event.reference,
            )
        )
    return outcome


def _check_required_inputs(draft: _Draft, event: Event) -> list[Outcome]:
    """Inputs the benefit needs beyond the conditions; recorded as implicit checks."""
    rule, ref = draft.rule, event.reference
    outcomes = []
    if rule.benefit.item == "product":
        ok = event.product is not None
        if not ok:
            draft.reasons.append(Reason("missing_input", f"{ref}: product is missing", ref))
        draft.checks.append(
            ConditionCheck(
                subject=ref,
                fact="event.product",
                op="required",
                value=None,
                actual=event.product,
                outcome=Outcome.PASSED if ok else Outcome.MISSING,
                implicit=True,
            )
        )
        outcomes.append(Outcome.PASSED if ok else Outcome.MISSING)
    if rule.benefit.kind == "percentage":
        problem = _amount_problem(event, rule)
        if problem is not None:
            draft.reasons.append(Reason(problem[0], problem[1], ref))
        actual = None if event.amount is None else f"{event.amount} {event.currency or '?'}"
        draft.checks.append(
            ConditionCheck(
                subject=ref,
                fact="event.amount",
                op="required_in_currency",
                value=rule.currency,
                actual=actual,
                outcome=Outcome.MISSING if problem else Outcome.PASSED,
                implicit=True,
            )
        )
        outcomes.append(Outcome.MISSING if problem else Outcome.PASSED)
    return outcomes


def _make_items(draft: _Draft, qualifying: list[Event]) -> list[_WorkItem]:
    """One item per qualifying event, or per product; then the per-item cap."""
    rule, benefit = draft.rule, draft.rule.benefit
    items: list[_WorkItem] = []
    first_event_of_product: dict[str, str] = {}
    for event in qualifying:  # already in _event_sort_key order
        if benefit.item == "product":
            first = first_event_of_product.setdefault(event.product, event.reference)
            if first != event.reference:
                draft.reasons.append(
                    Reason(
                        "duplicate_product",
                        f"{event.reference}: product {event.product} already counted via "
                        f"{first}; one item per product",
                        event.reference,
                    )
                )
                continue
        if benefit.kind == "percentage":
            base = event.amount
            before = (event.amount * benefit.rate).quantize(CENT)
            basis = "percentage"
        else:
            base, before = None, benefit.amount
            basis = "up_to_ceiling" if benefit.kind == "up_to" else "fixed"
        item = _WorkItem(event, basis, base, before, before)
        if benefit.item_cap is not None:
            item.after = min(before, benefit.item_cap)
            bound = item.after < before
            draft.caps.append(
                CapApplication(
                    kind="item_cap",
                    code=None,
                    subject=event.reference,
                    year=event.date.year,
                    limit=benefit.item_cap,
                    before=before,
                    after=item.after,
                    bound=bound,
                )
            )
            if bound:
                item.capped_by.append("item_cap")
                draft.reasons.append(
                    Reason(
                        "item_cap",
                        f"{event.reference}: per-item cap of {_money(benefit.item_cap)} "
                        f"{rule.currency} bound ({_money(before)} -> {_money(item.after)})",
                        event.reference,
                    )
                )
        items.append(item)
    if items and benefit.kind == "up_to":
        draft.reasons.append(
            Reason(
                "up_to_ceiling",
                f"estimate uses the 'up to' ceiling of {_money(benefit.amount)} {rule.currency} "
                f"per {benefit.item}; the actual award may be lower",
                rule.code,
            )
        )
    return items


def _apply_cap_group(group: CapGroup, drafts: list[_Draft]) -> None:
    """Share the group's yearly ceiling first come first served across its rules' items."""
    by_year: dict[int, list[tuple[_Draft, _WorkItem]]] = defaultdict(list)
    for draft in drafts:
        for item in draft.items:
            by_year[item.event.date.year].append((draft, item))
    for year in sorted(by_year):
        entries = sorted(
            by_year[year],
            key=lambda pair: (
                (pair[1].event.date, pair[0].rule.code, *_event_sort_key(pair[1].event)[1:])
            ),
        )
        group_before = sum((item.after for _, item in entries), ZERO)
        rule_before = {d.rule.code: _year_sum(d, year) for d in drafts}
        remaining = group.amount
        for _, item in entries:
            granted = min(item.after, remaining)
            if granted < item.after:
                item.capped_by.append(group.code)
            item.after = granted
            remaining -= granted
        for draft in drafts:
            if not any(item.event.date.year == year for item in draft.items):
                continue
            before, after = rule_before[draft.rule.code], _year_sum(draft, year)
            draft.caps.append(
                CapApplication(
                    kind="cap_group",
                    code=group.code,
                    subject=group.code,
                    year=year,
                    limit=group.amount,
                    before=before,
                    after=after,
                    bound=after < before,
                    group_total_before=group_before,
                )
            )
            if after < before:
                draft.reasons.append(
                    Reason(
                        "cap_group",
                        f"cap group {group.code} ({_money(group.amount)} {group.currency} per "
                        f"entity per calendar year) bound in {year}: this rule "
                        f"{_money(before)} -> {_money(after)}, all rules in the group "
                        f"{_money(group_before)} before the cap",
                        group.code,
                    )
                )


def _year_sum(draft: _Draft, year: int) -> Decimal:
    return sum((item.after for item in draft.items if item.event.date.year == year), ZERO)


def _finish(draft: _Draft) -> RuleResult:
    rule = draft.rule
    reasons = list(dict.fromkeys(draft.reasons))  # one missing amount can be reported twice
    before_total = sum((item.before for item in draft.items), ZERO)
    after_total = sum((item.after for item in draft.items), ZERO)
    if draft.company_outcome is Outcome.FAILED:
        status = Status.INELIGIBLE
    elif draft.company_outcome is Outcome.MISSING:
        status = Status.MISSING_INPUT
    elif draft.items:
        if before_total == ZERO:
            status = Status.ELIGIBLE_ZERO
            reasons.append(Reason("zero_amount", "conditions met but the amount is 0", rule.code))
        elif any(item.capped_by for item in draft.items):
            status = Status.CAPPED
        else:
            status = Status.ELIGIBLE
    elif draft.missing_events:
        status = Status.MISSING_INPUT
    else:
        status = Status.INELIGIBLE
        if not draft.relevant_events:
            kinds = [c.value_for_json() for c in rule.conditions if c.fact == "event.kind"]
            message = f"no event of kind {_describe(kinds[0])}"
            reasons.append(Reason("no_qualifying_event", message, rule.code))
    by_year: dict[int, YearAmounts] = {}
    for year in sorted({item.event.date.year for item in draft.items}):
        in_year = [item for item in draft.items if item.event.date.year == year]
        by_year[year] = YearAmounts(
            sum((item.before for item in in_year), ZERO),
            sum((item.after for item in in_year), ZERO),
        )
    items = tuple(
        Item(
            reference=item.event.reference,
            date=item.event.date,
            product=item.event.product,
            basis=item.basis,
            base_amount=item.base_amount,
            amount_before_caps=item.before,
            amount_after_caps=item.after,
            capped_by=tuple(item.capped_by),
        )
        for item in draft.items
    )
    return RuleResult(
        rule=rule.code,
        name=rule.name,
        status=status,
        currency=rule.currency,
        reasons=tuple(reasons),
        amount_before_caps=before_total,
        amount_after_caps=after_total,
        by_year=by_year,
        items=items,
        conditions=tuple(draft.checks),
        caps=tuple(draft.caps),
        citation=rule.provision,
    )


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _money_or_none(amount: Decimal | None) -> str | None:
    return None if amount is None else _money(amount)


def _iso_or_open(value: date | None) -> str:
    return "open" if value is None else value.isoformat()
