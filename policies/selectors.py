"""Selectors for the policies app."""

from __future__ import annotations

import datetime

from django.db.models import F, Prefetch, Q
from django.db.models.functions import Coalesce

from companies.choices import expand_modalities
from companies.models import OwnershipPeriod
from policies.engine import (
    CapGroup,
    CompanyFacts,
    Event,
    Facts,
    RegionRef,
    Rule,
    RuleValidationError,
    ValidationIssue,
    parse_cap_group,
    parse_rule,
)
from policies.models import SubsidyRule
from policies.subsidy_data import cap_group_engine_data, rule_engine_data, source_reference
from portal.models import Citation, Region
from projects.choices import AmountKind, MilestoneKind, ProjectStatus
from projects.models import InvestmentProject, RegulatoryMilestone

# --- subsidy engine: regions -------------------------------------------------------------


def _region_refs_by_id() -> dict[int, RegionRef]:
    """Every region as an engine RegionRef keyed by id, from one query over id/slug/path."""
    rows = list(Region.objects.values_list("id", "slug", "path"))
    slug_by_id = {region_id: slug for region_id, slug, _ in rows}
    refs = {}
    for region_id, slug, path in rows:
        ids = [int(part) for part in path.strip("/").split("/") if part]
        slugs = tuple(slug_by_id[ancestor] for ancestor in ids if ancestor in slug_by_id)
        # The engine's `within` is "slug in path", so the path must end with the region.
        refs[region_id] = RegionRef(slug, slugs if slugs[-1:] == (slug,) else (*slugs, slug))
    return refs


def region_paths() -> dict[str, tuple[str, ...]]:
    """Region slug -> slugs from the root down to it, e.g. pudong -> (china, shanghai, pudong)."""
    return {ref.slug: ref.path for ref in _region_refs_by_id().values()}


# --- subsidy engine: company facts -------------------------------------------------------

# Milestone kinds that become engine events; registration filings and designations have no
# engine event kind.
_MILESTONE_EVENTS = {
    MilestoneKind.MARKET_AUTHORIZATION: "market_authorization",
    MilestoneKind.COMMERCIAL_LAUNCH: "commercialization",
    MilestoneKind.CLINICAL_TRIAL_APPROVAL: "clinical_trial_approval",
}
# Amount kinds that are money invested; an expected annual output value is not.
_INVESTED_AMOUNT_KINDS = {AmountKind.CAPITAL_EXPENDITURE, AmountKind.COMMITMENT}


def subsidy_facts_for_company(*, company, year: int) -> Facts:
    """The engine's Facts for `company` as known at the end of `year` (four queries).

    A market authorization's region is the authorizing jurisdiction (NMPA: china), not where
    the product is sold, so `commercialized_in` comes from the product's commercial_launch
    milestones up to as_of: one event per launch region (one item per product is kept by the
    engine), or a single event with `commercialized_in` unknown when there is no launch, which
    the engine reports as missing input rather than a failed condition.
    """
    as_of = datetime.date(year, 12, 31)
    regions = _region_refs_by_id()
    ownership = (
        OwnershipPeriod.objects.filter(
            Q(effective_from__isnull=True) | Q(effective_from__lte=as_of),
            Q(effective_to__isnull=True) | Q(effective_to__gte=as_of),
            company_id=company.pk,
        )
        # Latest start wins; an open start (NULL) is the oldest, not the newest.
        .order_by(F("effective_from").desc(nulls_last=True), "-id")
        .values_list("ownership_type", flat=True)
        .first()
    )
    milestones = list(
        RegulatoryMilestone.objects.filter(
            product__company_id=company.pk, kind__in=list(_MILESTONE_EVENTS), date__lte=as_of
        )
        .select_related("product")
        .order_by("date", "slug")
    )
    projects = list(
        InvestmentProject.objects.filter(company_id=company.pk, announced_on__lte=as_of)
        .exclude(
            Q(status=ProjectStatus.CANCELLED)
            & (Q(status_since__isnull=True) | Q(status_since__lte=as_of))
        )
        .select_related("facility")
        .order_by("announced_on", "slug")
    )
    events = _milestone_events(milestones, regions) + _project_events(projects, regions)
    return Facts(
        as_of=as_of,
        company=CompanyFacts(
            registered_region=regions.get(company.registered_region_id),
            ownership=ownership,
            modalities=expand_modalities(company.modalities or ()),
        ),
        events=tuple(events),
    )


def _milestone_events(milestones, regions: dict[int, RegionRef]) -> list[Event]:
    launches: dict[int, list] = {}
    for milestone in milestones:
        if milestone.kind == MilestoneKind.COMMERCIAL_LAUNCH:
            launches.setdefault(milestone.product_id, []).append(milestone)
    events = []
    for milestone in milestones:
        product = milestone.product
        common = {
            "kind": _MILESTONE_EVENTS[milestone.kind],
            "date": milestone.date,
            "product": product.slug,
            "modality": expand_modalities([product.modality]),
        }
        reference = f"milestone:{milestone.slug}"
        if milestone.kind == MilestoneKind.COMMERCIAL_LAUNCH:
            region = regions.get(milestone.region_id)
            events.append(Event(reference=reference, commercialized_in=region, **common))
        elif milestone.kind == MilestoneKind.MARKET_AUTHORIZATION:
            launch_regions = list(
                dict.fromkeys(launch.region_id for launch in launches.get(product.pk, []))
            )
            if not launch_regions:
                events.append(Event(reference=reference, **common))
            for region_id in launch_regions:
                region = regions.get(region_id)
                suffix = f"@{region.slug}" if len(launch_regions) > 1 and region else ""
                events.append(
                    Event(reference=reference + suffix, commercialized_in=region, **common)
                )
        else:
            events.append(Event(reference=reference, **common))
    return events


def _project_events(projects, regions: dict[int, RegionRef]) -> list[Event]:
    events = []
    for project in projects:
        invested = project.amount is not None and project.amount_kind in _INVESTED_AMOUNT_KINDS
        events.append(
            Event(
                kind="investment",
                date=project.announced_on,
                reference=f"project:{project.slug}",
                modality=expand_modalities(project.facility.modalities if project.facility else ()),
                located_in=regions.get(project.region_id),
                amount=project.amount if invested else None,
                currency=project.currency if invested else None,
            )
        )
    return events


# --- subsidy engine: rules ---------------------------------------------------------------


def _citations_with_source():
    return Citation.objects.select_related("source").order_by("id")


def subsidy_rules_queryset(*, as_of: datetime.date | None = None):
    """Subsidy rules with everything their engine form needs; in effect by `as_of` if given.

    A rule that starts after as_of cannot have a qualifying event on or before it, so it is
    left out; rules that ended before as_of stay (earlier events may still qualify).
    """
    rules = SubsidyRule.objects.select_related("provision__policy", "cap_group").prefetch_related(
        Prefetch("citations", queryset=_citations_with_source()),
        Prefetch("provision__citations", queryset=_citations_with_source()),
        Prefetch("provision__policy__citations", queryset=_citations_with_source()),
    )
    if as_of is not None:
        rules = rules.alias(
            starts_on=Coalesce(
                "effective_from",
                "provision__policy__effective_from",
                "provision__policy__published_on",
            )
        ).filter(Q(starts_on__isnull=True) | Q(starts_on__lte=as_of))
    return rules.order_by("code")


def _rule_source(rule) -> tuple[str, str]:
    """Cited source of the rule: its own citation, else its provision's, else its policy's."""
    provision = rule.provision
    for citations in (rule.citations, provision.citations, provision.policy.citations):
        first = next(iter(citations.all()), None)  # prefetched: no query
        if first is not None:
            return source_reference(first.source)
    return provision.policy.title_en, f"policy:{provision.policy.slug}"


def subsidy_rules_for_engine(
    *, as_of: datetime.date | None = None
) -> tuple[tuple[Rule, ...], tuple[CapGroup, ...]]:
    """Engine rules (with citation) and the cap groups they use, in four queries.

    Raises the engine's RuleValidationError if a stored rule is invalid (saved around
    `full_clean`), naming the rule: better than estimating without it.
    """
    rules, groups = [], {}
    for row in subsidy_rules_queryset(as_of=as_of):
        source_title, source_file = _rule_source(row)
        data = rule_engine_data(row, source_title=source_title, source_file=source_file)
        try:
            rules.append(parse_rule(data))
        except RuleValidationError as error:
            raise RuleValidationError(
                [ValidationIssue(f"{row.code}: {i.path}", i.message) for i in error.issues]
            ) from error
        if row.cap_group is not None:
            groups.setdefault(row.cap_group.code, row.cap_group)
    cap_groups = tuple(parse_cap_group(cap_group_engine_data(g)) for g in groups.values())
    return tuple(rules), cap_groups
