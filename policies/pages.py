"""Page reads of the policies layer: policies, provisions, subsidy rules, targets, home.

Kept apart from policies/selectors.py (the subsidy engine glue) so the two can change
independently; like every selector, each read here costs a fixed number of queries.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from companies.choices import FacilityStatus, Modality, OwnershipType
from companies.models import Company, Facility
from policies.choices import PolicyKind, TargetMetric, ValidityStatus
from policies.models import Policy, PolicyRelation, PolicyTarget, Provision, SubsidyRule
from portal.models import Change, Region
from portal.pages import (
    ChoiceFacet,
    FilteredList,
    RegionFacet,
    YearFacet,
    apply_filters,
    count_many,
)
from projects.choices import MilestoneKind
from projects.models import InvestmentProject, RegulatoryMilestone

DETAIL_ROWS = 25


def today() -> datetime.date:
    return datetime.date.today()


# --- policies ----------------------------------------------------------------------------

POLICY_SORTS = {
    "-effective": ("-effective_from", "title_en", "pk"),
    "effective": ("effective_from", "title_en", "pk"),
    "title": ("title_en", "pk"),
}
POLICY_CSV_COLUMNS = [
    ("slug", "slug"),
    ("title_en", "title_en"),
    ("title_zh", "title_zh"),
    ("document_number", "document_number"),
    ("kind", "kind"),
    ("validity", "validity"),
    ("jurisdiction", "jurisdiction__slug"),
    ("published_on", "published_on"),
    ("effective_from", "effective_from"),
    ("expires_on", "expires_on"),
    ("repealed_on", "repealed_on"),
]


def policy_list(*, params, with_counts: bool = True) -> FilteredList:
    """Policies with their validity today, faceted by kind, validity, jurisdiction and year."""
    queryset = Policy.objects.with_validity_on(today()).select_related("jurisdiction")
    return apply_filters(
        queryset,
        params,
        choice_facets=[
            ChoiceFacet("kind", _("Policy kind"), PolicyKind.choices, lambda v: Q(kind=v)),
            ChoiceFacet("validity", _("Validity"), ValidityStatus.choices, lambda v: Q(validity=v)),
        ],
        region_facet=RegionFacet("jurisdiction__path", param="jurisdiction"),
        year_facet=YearFacet("effective_from"),
        sorts=POLICY_SORTS,
        with_counts=with_counts,
    )


def policies_covering(*, region) -> list[Policy]:
    """Policies whose jurisdiction is the region or one of its ancestors, with validity."""
    return list(
        Policy.objects.covering(region)
        .with_validity_on(today())
        .select_related("jurisdiction")
        .order_by("-effective_from", "title_en")
    )


def policy_profile(*, slug: str) -> Policy:
    """A policy with authorities, provision outline, relations both ways, targets (5 queries)."""
    policy = (
        Policy.objects.with_validity_on(today())
        .select_related("jurisdiction")
        .prefetch_related("issuing_authorities")
        .filter(slug=slug)
        .first()
    )
    if policy is None:
        raise Http404("No such policy")
    policy.outline = list(
        Provision.objects.filter(policy=policy)
        .select_related("policy")
        .annotate(rule_count=Count("subsidy_rules"))
        .order_by("order")
    )
    relations = PolicyRelation.objects.filter(
        Q(from_policy=policy) | Q(to_policy=policy)
    ).select_related("from_policy", "to_policy")
    policy.outgoing = [r for r in relations if r.from_policy_id == policy.pk]
    policy.incoming = [r for r in relations if r.to_policy_id == policy.pk]
    policy.target_rows = list(
        PolicyTarget.objects.filter(policy=policy)
        .select_related("region", "provision", "provision__policy")
        .order_by("deadline", "slug")
    )
    attach_target_progress(policy.target_rows)
    return policy


# --- targets -----------------------------------------------------------------------------

# Which portal records count toward a target metric; metrics absent here are not computed.
_COUNTED_METRICS = {
    TargetMetric.CLINICAL_TRIAL_APPROVALS: "milestones",
    TargetMetric.MARKET_AUTHORIZATIONS: "milestones",
    TargetMetric.FACILITIES_OPERATIONAL: "facilities",
    TargetMetric.COMPANIES: "companies",
}
_MILESTONE_KIND = {
    TargetMetric.CLINICAL_TRIAL_APPROVALS: MilestoneKind.CLINICAL_TRIAL_APPROVAL,
    TargetMetric.MARKET_AUTHORIZATIONS: MilestoneKind.MARKET_AUTHORIZATION,
}


def attach_target_progress(targets: list[PolicyTarget]) -> None:
    """Set `actual`, `progress` (0-100) and `actual_basis` on each target.

    One conditional aggregate per record type covers every target, so the cost does not grow
    with the number of targets. Actuals count only what the portal has recorded, which the
    page says next to the number.
    """
    by_source: dict[str, dict[str, Q]] = {"milestones": {}, "facilities": {}, "companies": {}}
    for target in targets:
        source = _COUNTED_METRICS.get(target.metric)
        target.actual = None
        target.progress = None
        target.actual_basis = source
        if source is None:
            continue
        key = f"t{target.pk}"
        start = target.period_start or datetime.date.min
        if source == "milestones":
            by_source[source][key] = Q(
                kind=_MILESTONE_KIND[target.metric],
                date__gte=start,
                date__lte=target.deadline,
                region__path__startswith=target.region.path,
            )
        elif source == "facilities":
            by_source[source][key] = Q(
                status=FacilityStatus.OPERATIONAL, region__path__startswith=target.region.path
            )
        else:
            by_source[source][key] = Q(registered_region__path__startswith=target.region.path)
    models = {
        "milestones": RegulatoryMilestone,
        "facilities": Facility,
        "companies": Company,
    }
    actuals: dict[str, int] = {}
    for source, conditions in by_source.items():
        if conditions:
            aggregates = {key: Count("pk", filter=q) for key, q in conditions.items()}
            actuals.update(models[source].objects.order_by().aggregate(**aggregates))
    for target in targets:
        key = f"t{target.pk}"
        if key in actuals:
            target.actual = actuals[key]
            if target.value:
                ratio = Decimal(target.actual) / target.value * 100
                target.progress = min(int(ratio), 100)


def targets_in_force() -> list[PolicyTarget]:
    """Targets of policies in force today, with progress, for the home page (≤ 5 queries)."""
    targets = list(
        PolicyTarget.objects.filter(
            policy__in=Policy.objects.active_on(today()).values("pk"),
        )
        .select_related("policy", "region")
        .order_by("deadline", "slug")[:DETAIL_ROWS]
    )
    attach_target_progress(targets)
    return targets


# --- provisions and subsidy rules --------------------------------------------------------


def provision_profile(*, policy_slug: str, path: str) -> Provision:
    provision = (
        Provision.objects.select_related("policy", "policy__jurisdiction")
        .prefetch_related(
            "responsible_authorities",
            Prefetch(
                "subsidy_rules",
                queryset=SubsidyRule.objects.select_related("cap_group").order_by("code"),
            ),
        )
        .filter(policy__slug=policy_slug, path=path)
        .first()
    )
    if provision is None:
        raise Http404("No such provision")
    rules = list(provision.subsidy_rules.all())
    names = region_names(rules)
    for rule in rules:
        rule.explanation = explain_rule(rule, names)
    provision.rules = rules
    return provision


def applicable_provisions(*, region) -> list[Provision]:
    """Subsidy provisions of policies in force covering the region: what a site there can use."""
    return list(
        Provision.objects.filter(
            policy__in=Policy.objects.covering(region).active_on(today()).values("pk")
        )
        .filter(Q(kind="subsidy") | Q(subsidy_rules__isnull=False))
        .select_related("policy")
        .distinct()
        .order_by("policy__title_en", "order")
    )


SUBSIDY_RULE_SORTS = {"code": ("code",), "name": ("name", "pk")}


def subsidy_rule_list(*, params, with_counts: bool = True) -> FilteredList:
    return apply_filters(
        SubsidyRule.objects.select_related("provision", "provision__policy", "cap_group"),
        params,
        region_facet=RegionFacet("provision__policy__jurisdiction__path"),
        sorts=SUBSIDY_RULE_SORTS,
        with_counts=with_counts,
    )


def subsidy_rule_profile(*, code: str) -> SubsidyRule:
    rule = (
        SubsidyRule.objects.select_related(
            "provision", "provision__policy", "provision__policy__jurisdiction", "cap_group"
        )
        .filter(code=code)
        .first()
    )
    if rule is None:
        raise Http404("No such subsidy rule")
    rule.explanation = explain_rule(rule, region_names([rule]))
    return rule


def region_names(rules) -> dict[str, Region]:
    """Regions named by the rules' conditions, by slug (one query for all rules)."""
    slugs = {
        condition.get("value")
        for rule in rules
        for condition in (rule.conditions or [])
        if isinstance(condition, dict) and condition.get("op") == "within"
    }
    return {region.slug: region for region in Region.objects.filter(slug__in=slugs)}


_EVENT_KINDS = {
    "market_authorization": _("obtains market authorization"),
    "commercialization": _("commercializes a product"),
    "liability_insurance_premium": _("pays a product liability insurance premium"),
    "investment": _("makes an investment"),
    "clinical_trial_approval": _("obtains a clinical trial approval"),
}


def _region_label(slug, names: dict[str, Region]) -> str:
    region = names.get(slug)
    if region is None:
        return str(slug)
    return region.name_zh if get_language() == "zh-hans" and region.name_zh else region.name_en


def _choice_list(values, choices) -> str:
    labels = dict(choices)
    values = values if isinstance(values, list) else [values]
    return gettext(", ").join(str(labels.get(value, value)) for value in values)


def _amount(value, currency: str) -> str:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return f"{value} {currency}"
    return f"{currency} {number:,.2f}".replace(".00", "")


def explain_condition(condition: dict, names: dict[str, Region], currency: str) -> str:
    """One condition of a rule as a phrase in the active language."""
    fact, op, value = condition.get("fact"), condition.get("op"), condition.get("value")
    if fact == "company.registered_region":
        return gettext("the company is registered in %(region)s") % {
            "region": _region_label(value, names)
        }
    if fact == "company.ownership":
        return gettext("the company's ownership is %(types)s") % {
            "types": _choice_list(value, OwnershipType.choices)
        }
    if fact == "company.modalities":
        return gettext("the company works in %(modalities)s") % {
            "modalities": _choice_list(value, Modality.choices)
        }
    if fact == "event.kind":
        kinds = value if isinstance(value, list) else [value]
        return gettext(" or ").join(str(_EVENT_KINDS.get(kind, kind)) for kind in kinds)
    if fact == "event.modality":
        return gettext("for a %(modalities)s product") % {
            "modalities": _choice_list(value, Modality.choices)
        }
    if fact == "event.commercialized_in":
        return gettext("commercialized in %(region)s") % {"region": _region_label(value, names)}
    if fact == "event.located_in":
        return gettext("located in %(region)s") % {"region": _region_label(value, names)}
    if fact == "event.amount":
        return gettext("with an amount %(op)s %(amount)s") % {
            "op": op,
            "amount": _amount(value, currency),
        }
    return f"{fact} {op} {value}"


def explain_rule(rule: SubsidyRule, names: dict[str, Region]) -> str:
    """The rule's conditions and benefit as one sentence (English or Chinese)."""
    conditions = [c for c in (rule.conditions or []) if isinstance(c, dict)]
    company = [explain_condition(c, names, rule.currency) for c in conditions if _is(c, "company")]
    event = [explain_condition(c, names, rule.currency) for c in conditions if _is(c, "event")]
    benefit = rule.benefit or {}
    kind = benefit.get("kind")
    per = gettext("per product") if benefit.get("item") == "product" else gettext("per event")
    if kind == "fixed":
        award = gettext("%(amount)s %(per)s") % {
            "amount": _amount(benefit.get("amount"), rule.currency),
            "per": per,
        }
    elif kind == "up_to":
        award = gettext("up to %(amount)s %(per)s") % {
            "amount": _amount(benefit.get("amount"), rule.currency),
            "per": per,
        }
    elif kind == "percentage":
        rate = Decimal(str(benefit.get("rate", "0"))) * 100
        award = gettext("%(rate)s%% of the amount %(per)s") % {
            "rate": f"{rate.normalize():f}",
            "per": per,
        }
        if benefit.get("item_cap"):
            award += gettext(", at most %(cap)s each") % {
                "cap": _amount(benefit["item_cap"], rule.currency)
            }
    else:
        award = gettext("a benefit")
    sentence = gettext("When %(company)s and it %(event)s, it receives %(award)s.") % {
        "company": gettext(" and ").join(company) or gettext("any company"),
        "event": gettext(", ").join(event) or gettext("has a qualifying event"),
        "award": award,
    }
    if rule.cap_group_id and rule.cap_group:
        sentence += " " + gettext(
            "All rules of the group “%(group)s” together pay at most %(cap)s per entity per year."
        ) % {"group": rule.cap_group.name, "cap": _amount(rule.cap_group.amount, rule.currency)}
    return sentence


def _is(condition: dict, prefix: str) -> bool:
    return str(condition.get("fact", "")).startswith(prefix + ".")


# --- citations and history ---------------------------------------------------------------


def recent_changes(limit: int = 15) -> list[Change]:
    return list(Change.objects.order_by("-occurred_at", "-id")[:limit])


def home_counts() -> dict[str, int]:
    """Headline numbers the portal computes from its records, in one query."""
    return count_many(
        companies=Company.objects.all(),
        facilities=Facility.objects.all(),
        operational=Facility.objects.filter(status=FacilityStatus.OPERATIONAL),
        projects=InvestmentProject.objects.all(),
        policies_in_force=Policy.objects.active_on(today()),
    )


# --- home ----------------------------------------------------------------------------------


def _metric_rows(subject_type: str, subject_id=None) -> list:
    """Stored metrics of a subject (portal/metrics), newest computation first."""
    from portal.metrics.selectors import metrics_for

    return list(metrics_for(subject_type, subject_id).order_by("name", "dimensions_key")[:100])


def _chart_series(rows: list[dict], label_key: str, labels: list) -> dict:
    """Chart.js datasets, one per (amount kind, currency): unlike amounts are never summed."""
    from projects.choices import AmountKind

    kind_labels = dict(AmountKind.choices)
    series: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["amount_kind"], row["currency"])
        dataset = series.setdefault(
            key,
            {
                "label": f"{kind_labels.get(key[0], key[0])} ({key[1]})",
                "data": [0.0] * len(labels),
            },
        )
        dataset["data"][labels.index(row[label_key])] += float(row["total"])
    return {"labels": [str(label) for label in labels], "datasets": list(series.values())}


def investment_charts() -> dict:
    """Investment by announcement year and by district for the home page charts (3 queries)."""
    from projects.selectors import investment_by_region, investment_by_year

    by_year = investment_by_year()
    years = sorted({row["year"] for row in by_year})
    # One query gives both the district level of the tree and the districts' names.
    districts = list(Region.objects.filter(kind="district").values_list("pk", "name_en", "depth"))
    level = min((depth for _, _, depth in districts), default=0)
    names = {pk: name for pk, name, depth in districts if depth == level}
    by_region = [row for row in investment_by_region(level) if row["ancestor_id"] in names]
    for row in by_region:
        row["region"] = names[row["ancestor_id"]]
    regions = sorted({row["region"] for row in by_region})
    return {
        "by_year": _chart_series(by_year, "year", years),
        "by_region": _chart_series(by_region, "region", regions),
        "by_year_rows": by_year,
        "by_region_rows": by_region,
    }


def home_page() -> dict:
    """Everything the home page shows (≤ 10 queries)."""
    return {
        "counts": home_counts(),
        "metrics": _metric_rows("portal"),
        "computed_at": datetime.datetime.now(tz=datetime.UTC),
        "changes": recent_changes(),
        "charts": investment_charts(),
        "targets": targets_in_force(),
    }


# --- subsidy estimates ---------------------------------------------------------------------

SUBSIDY_RULE_CSV_COLUMNS = [
    ("code", "code"),
    ("name", "name"),
    ("policy", "provision__policy__slug"),
    ("provision", "provision__path"),
    ("currency", "currency"),
    ("cap_group", "cap_group__code"),
    ("effective_from", "effective_from"),
    ("effective_to", "effective_to"),
]

# A page shows this many trace lines per rule; the API returns the whole trace.
TRACE_LINES = 60
STATUS_LABELS = {
    "eligible": _("Eligible"),
    "capped": _("Eligible, capped"),
    "eligible_zero": _("Eligible, zero amount"),
    "missing_input": _("Missing input"),
    "ineligible": _("Not eligible"),
}
OUTCOME_LABELS = {
    "pass": _("pass"),
    "fail": _("fail"),
    "missing": _("missing"),
    "ignored": _("ignored"),
}


def region_choices() -> list[tuple[str, str]]:
    """(slug, label) of every region for the calculator's selects, indented by depth."""
    return [
        (slug, f"{'  ' * depth}{name}{f' {name_zh}' if name_zh else ''}")
        for slug, name, name_zh, depth in Region.objects.order_by("path").values_list(
            "slug", "name_en", "name_zh", "depth"
        )
    ]


def company_for_estimate(*, slug: str) -> Company:
    """The company plus the dates of its latest milestone and project, in one query.

    The estimate itself needs about eight queries of its own, so this page reads little else.
    """
    from django.db.models import OuterRef, Subquery

    latest_milestone = (
        RegulatoryMilestone.objects.filter(product__company=OuterRef("pk"))
        .order_by("-date")
        .values("date")[:1]
    )
    latest_project = (
        InvestmentProject.objects.filter(company=OuterRef("pk"))
        .order_by("-announced_on")
        .values("announced_on")[:1]
    )
    company = (
        Company.objects.select_related("registered_region")
        .annotate(
            latest_milestone=Subquery(latest_milestone),
            latest_project=Subquery(latest_project),
        )
        .filter(slug=slug)
        .first()
    )
    if company is None:
        raise Http404("No such company")
    dates = [d for d in (company.latest_milestone, company.latest_project) if d is not None]
    company.latest_event_year = max(dates).year if dates else None
    return company


def estimate_year(*, latest_event_year: int | None) -> int:
    """The current year, or the latest year with events when the company has none since."""
    current = today().year
    if latest_event_year is not None and latest_event_year < current:
        return latest_event_year
    return current


def present_estimate(estimate: dict) -> dict:
    """Add display labels to the engine's result (the amounts and codes stay as they are)."""
    results = []
    for result in estimate.get("results", []):
        shown = dict(result)
        shown["status_label"] = STATUS_LABELS.get(result["status"], result["status"])
        # Events of another kind only say "not this rule's kind": noise in a trace table.
        checks = [
            check
            for check in result.get("trace", {}).get("conditions", [])
            if not (check["fact"] == "event.kind" and check["outcome"] == "fail")
        ]
        shown["conditions"] = [
            {**check, "outcome_label": OUTCOME_LABELS.get(check["outcome"], check["outcome"])}
            for check in checks[:TRACE_LINES]
        ]
        shown["conditions_hidden"] = max(len(checks) - TRACE_LINES, 0)
        shown["caps"] = result.get("trace", {}).get("caps", [])
        shown["citation"] = result.get("trace", {}).get("citation", {})
        shown["item_rows"] = result.get("items", [])
        results.append(shown)
    return {
        **estimate,
        "results": results,
        "by_year_rows": sorted(estimate.get("by_year", {}).items()),
    }
