"""Metric SQL of the policies app: progress of every policy target against the actual figure
computed from the data, subsidy exposure by year from the rules engine, policies in force.

Target actuals (the region is the target's; "within" means the region or below it):
- clinical_trial_approvals / market_authorizations: milestones of that kind dated within
  [period_start, deadline], of products whose company is registered within the region (the
  milestone's own region is the approving jurisdiction, e.g. all of China for NMPA);
- facilities_operational: facilities within the region that became operational (a status
  change to operational) within [period_start, deadline];
- companies: companies (kind "company") registered within the region today;
- investment_amount: CNY-converted capital expenditure announced within the period in the
  region (one amount kind only: kinds are never added up), divided by the unit's multiplier
  ("CNY 100 million" → 1e8, "billion" → 1e9, "million" → 1e6, "10,000" → 1e4);
- industry_scale and other: no figure in the data measures them, so no metric is written.
Each target yields `target_actual`, `target_met` (1/0) and, when the target value is not zero,
`target_share` (actual / target), dimension `target` = the target's slug.
"""

import logging
from collections import defaultdict
from decimal import Decimal

from django.db import connection

from portal.metrics import registry, sql
from projects import investment_cells

logger = logging.getLogger(__name__)

POLICY_TARGETS = sql.compose(
    "WITH ",
    investment_cells.CONVERTED_PROJECTS.replace("{scope}", "p.amount_kind = 'capital_expenditure'"),
    """,
targets AS (
    SELECT t.id, t.slug, t.policy_id, t.metric, t.comparator, t.value AS target_value, t.unit,
           t.period_start, t.deadline, t.region_id, r.path AS region_path,
           CASE WHEN t.unit ILIKE '%%billion%%' THEN 1e9
                WHEN t.unit ILIKE '%%100 million%%' OR t.unit ILIKE '%%hundred million%%'
                  OR t.unit LIKE '%%亿%%' THEN 1e8
                WHEN t.unit ILIKE '%%million%%' THEN 1e6
                WHEN t.unit ILIKE '%%10,000%%' OR t.unit ILIKE '%%ten thousand%%'
                  OR t.unit LIKE '%%万%%' THEN 1e4
                ELSE 1 END AS multiplier
      FROM policies_policytarget t JOIN portal_region r ON r.id = t.region_id
     WHERE t.metric IN ('clinical_trial_approvals', 'market_authorizations',
                        'facilities_operational', 'companies', 'investment_amount')
       AND (%(subject_ids)s::bigint[] IS NULL OR t.policy_id = ANY(%(subject_ids)s::bigint[]))
),
actuals AS (
    SELECT t.*,
           CASE t.metric
           WHEN 'clinical_trial_approvals' THEN (
               SELECT count(*) FROM projects_regulatorymilestone m
                 JOIN projects_product p ON p.id = m.product_id
                 JOIN companies_company c ON c.id = p.company_id
                 JOIN portal_region cr ON cr.id = c.registered_region_id
                WHERE m.kind = 'clinical_trial_approval' AND cr.path LIKE t.region_path || '%%'
                  AND m.date <= t.deadline
                  AND (t.period_start IS NULL OR m.date >= t.period_start))
           WHEN 'market_authorizations' THEN (
               SELECT count(*) FROM projects_regulatorymilestone m
                 JOIN projects_product p ON p.id = m.product_id
                 JOIN companies_company c ON c.id = p.company_id
                 JOIN portal_region cr ON cr.id = c.registered_region_id
                WHERE m.kind = 'market_authorization' AND cr.path LIKE t.region_path || '%%'
                  AND m.date <= t.deadline
                  AND (t.period_start IS NULL OR m.date >= t.period_start))
           WHEN 'facilities_operational' THEN (
               SELECT count(DISTINCT f.id) FROM companies_facility f
                 JOIN portal_region fr ON fr.id = f.region_id
                 JOIN companies_facilitystatuschange sc ON sc.facility_id = f.id
                WHERE sc.status = 'operational' AND fr.path LIKE t.region_path || '%%'
                  AND sc.date <= t.deadline
                  AND (t.period_start IS NULL OR sc.date >= t.period_start))
           WHEN 'companies' THEN (
               SELECT count(*) FROM companies_company c
                 JOIN portal_region cr ON cr.id = c.registered_region_id
                WHERE c.kind = 'company' AND cr.path LIKE t.region_path || '%%')
           WHEN 'investment_amount' THEN (
               SELECT coalesce(sum(v.amount_cny), 0) / t.multiplier FROM converted v
                 JOIN portal_region pr ON pr.id = v.region_id
                WHERE pr.path LIKE t.region_path || '%%' AND v.announced_on <= t.deadline
                  AND (t.period_start IS NULL OR v.announced_on >= t.period_start))
           END::numeric AS actual
      FROM targets t
),
judged AS (
    SELECT a.*,
           CASE a.comparator
           WHEN 'more_than' THEN a.actual > a.target_value
           WHEN 'at_least' THEN a.actual >= a.target_value
           WHEN 'exactly' THEN a.actual = a.target_value
           WHEN 'about' THEN abs(a.actual - a.target_value) <= 0.1 * a.target_value
           WHEN 'less_than' THEN a.actual < a.target_value
           WHEN 'at_most' THEN a.actual <= a.target_value
           END AS met,
           jsonb_build_object(
               'target_value', a.target_value, 'comparator', a.comparator, 'unit', a.unit,
               'period_start', a.period_start, 'deadline', a.deadline,
               'amount_kind', CASE WHEN a.metric = 'investment_amount'
                                   THEN 'capital_expenditure' END,
               'multiplier', CASE WHEN a.metric = 'investment_amount' THEN a.multiplier END,
               'row_count', a.actual) AS inputs
      FROM actuals a
)
SELECT policy_id AS subject_id, 'target_actual' AS name,
       jsonb_build_object('target', slug) AS dimensions, actual AS value, unit, inputs
  FROM judged
UNION ALL
SELECT policy_id, 'target_met', jsonb_build_object('target', slug),
       CASE WHEN met THEN 1 ELSE 0 END, 'boolean', inputs
  FROM judged
UNION ALL
SELECT policy_id, 'target_share', jsonb_build_object('target', slug),
       actual / target_value, 'ratio', inputs
  FROM judged WHERE target_value > 0
""",
)

PORTAL_POLICIES = """
SELECT NULL::bigint AS subject_id, 'policies_in_force' AS name, '{}'::jsonb AS dimensions,
       count(*) AS value, 'policies' AS unit,
       jsonb_build_object('in_force_on', %(today)s::date, 'row_count', count(*)) AS inputs
  FROM policies_policy
 WHERE (repealed_on IS NULL OR repealed_on > %(today)s)
   AND (effective_from IS NULL OR effective_from <= %(today)s)
   AND (expires_on IS NULL OR expires_on >= %(today)s)
"""

# Companies registered within each in-scope policy's jurisdiction that have at least one
# event the engine can pay for (a milestone of a kind it knows, or an investment), with the
# years of those events inside the policy's validity. Only these pairs are run through the
# engine: a company without qualifying events cannot have exposure.
SUBSIDY_CANDIDATES = """
WITH policies AS (
    SELECT DISTINCT pol.id, pol.effective_from, pol.expires_on, pol.repealed_on, jr.path
      FROM policies_policy pol
      JOIN portal_region jr ON jr.id = pol.jurisdiction_id
      JOIN policies_provision pv ON pv.policy_id = pol.id
      JOIN policies_subsidyrule sr ON sr.provision_id = pv.id
     WHERE %(subject_ids)s::bigint[] IS NULL OR pol.id = ANY(%(subject_ids)s::bigint[])
),
events AS (
    SELECT p.company_id, m.date FROM projects_regulatorymilestone m
      JOIN projects_product p ON p.id = m.product_id
     WHERE m.kind IN ('clinical_trial_approval', 'market_authorization', 'commercial_launch')
    UNION ALL
    SELECT ip.company_id, ip.announced_on FROM projects_investmentproject ip
)
SELECT DISTINCT pol.id, c.id, extract(year FROM e.date)::int
  FROM policies pol
  JOIN portal_region cr ON cr.path LIKE pol.path || '%%'
  JOIN companies_company c ON c.registered_region_id = cr.id
  JOIN events e ON e.company_id = c.id
 WHERE (pol.effective_from IS NULL OR e.date >= pol.effective_from)
   AND (pol.expires_on IS NULL OR e.date <= pol.expires_on)
   AND (pol.repealed_on IS NULL OR e.date < pol.repealed_on)
 ORDER BY 1, 2, 3
"""

RULE_CODES_BY_POLICY = """
SELECT pv.policy_id, sr.code FROM policies_subsidyrule sr
  JOIN policies_provision pv ON pv.id = sr.provision_id
 WHERE pv.policy_id = ANY(%(policy_ids)s::bigint[])
"""


def _amounts_by_rule(estimate, year: int) -> dict[str, Decimal] | None:
    """Per-rule amount after caps for `year` from an engine Estimate (object or dict)."""
    results = getattr(estimate, "results", None)
    if results is None and isinstance(estimate, dict):
        results = estimate.get("results")
    if results is None:
        return None
    amounts = {}
    for result in results:
        if isinstance(result, dict):
            by_year = result.get("by_year", {})
            entry = by_year.get(str(year)) or by_year.get(year)
            amount = Decimal(entry["amount_after_caps"]) if entry else Decimal(0)
            amounts[result["rule"]] = amount
        else:
            entry = result.by_year.get(year)
            amounts[result.rule] = entry.after_caps if entry else Decimal(0)
    return amounts


def compute_subsidy_exposure(policy_ids: list[int] | None) -> list[dict]:
    """Estimated subsidy exposure per policy and year: the engine's amounts after caps, summed
    over the companies registered within the policy's jurisdiction, counting only the rules
    of that policy.

    This family loops in Python because every amount comes from running the rules engine
    (caps, conditions, first-come allocation) — no SQL can reproduce it. The loop is bounded
    by the candidate (company, year) pairs that have a qualifying event (one SQL statement
    finds them), and each pair is estimated once even when several policies cover it.
    """
    try:
        from policies.services import subsidy_estimate_for_company
    except ImportError:
        logger.warning("subsidy_estimate_for_company is not available; no exposure computed")
        return []
    from companies.models import Company

    params = {"subject_ids": policy_ids}
    with connection.cursor() as cursor:
        cursor.execute(SUBSIDY_CANDIDATES, params)
        candidates = cursor.fetchall()
        policies = sorted({policy_id for policy_id, _, _ in candidates})
        cursor.execute(RULE_CODES_BY_POLICY, {"policy_ids": policies})
        rules_of: dict[int, set[str]] = defaultdict(set)
        for policy_id, code in cursor.fetchall():
            rules_of[policy_id].add(code)
    companies = Company.objects.in_bulk({company_id for _, company_id, _ in candidates})
    estimates: dict[tuple[int, int], dict[str, Decimal] | None] = {}
    totals: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    counted: dict[tuple[int, int], set[int]] = defaultdict(set)
    for policy_id, company_id, year in candidates:
        if (company_id, year) not in estimates:
            estimate = subsidy_estimate_for_company(company=companies[company_id], year=year)
            estimates[company_id, year] = _amounts_by_rule(estimate, year)
        amounts = estimates[company_id, year] or {}
        exposure = sum(
            (amount for code, amount in amounts.items() if code in rules_of[policy_id]),
            Decimal(0),
        )
        totals[policy_id, year] += exposure
        if exposure:
            counted[policy_id, year].add(company_id)
    return [
        {
            "subject_id": policy_id,
            "name": "subsidy_exposure",
            "dimensions": {"year": year},
            "value": str(total),
            "unit": "CNY",
            "inputs": {
                "engine": "policies.services.subsidy_estimate_for_company",
                "rules": sorted(rules_of[policy_id]),
                "row_count": len({c for p, c, y in candidates if p == policy_id and y == year}),
                "companies_with_exposure": len(counted[policy_id, year]),
            },
        }
        for (policy_id, year), total in sorted(totals.items())
    ]


registry.register_family(
    registry.MetricFamily(
        key="policy.targets",
        subject_type="policy",
        names=("target_actual", "target_met", "target_share"),
        sql=POLICY_TARGETS,
        tables=(
            "policies_policy",
            "policies_policytarget",
            "projects_regulatorymilestone",
            "projects_product",
            "companies_company",
            "companies_facility",
            "companies_facilitystatuschange",
            "projects_investmentproject",
            "portal_exchangerate",
            "portal_region",
        ),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="policy.subsidy_exposure",
        subject_type="policy",
        names=("subsidy_exposure",),
        compute=compute_subsidy_exposure,
        # The engine reads the rules and everything about a company and its events.
        tables=(
            "policies_policy",
            "policies_subsidyrule",
            "policies_subsidycapgroup",
            "companies_company",
            "companies_ownershipperiod",
            "companies_facility",
            "companies_facilitystatuschange",
            "projects_investmentproject",
            "projects_product",
            "projects_regulatorymilestone",
            "portal_exchangerate",
            "portal_region",
        ),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="portal.policies",
        subject_type="portal",
        names=("policies_in_force",),
        sql=PORTAL_POLICIES,
        tables=("policies_policy",),
    )
)

registry.register_change_mapping(
    "policies_policy",
    "SELECT 'policy' AS subject_type, (r.data ->> 'id')::bigint AS subject_id, r.change_id "
    "FROM {rows} r",
)
registry.register_change_mapping(
    "policies_policytarget",
    "SELECT 'policy' AS subject_type, (r.data ->> 'policy_id')::bigint AS subject_id, "
    "r.change_id FROM {rows} r",
)
registry.register_change_mapping(
    "policies_subsidyrule",
    """
SELECT 'policy' AS subject_type, pv.policy_id AS subject_id, r.change_id
  FROM {rows} r JOIN policies_provision pv ON pv.id = (r.data ->> 'provision_id')::bigint
""",
)
registry.register_change_mapping(
    "policies_subsidycapgroup",
    """
SELECT 'policy' AS subject_type, pv.policy_id AS subject_id, r.change_id
  FROM {rows} r
  JOIN policies_subsidyrule sr ON sr.cap_group_id = (r.data ->> 'id')::bigint
  JOIN policies_provision pv ON pv.id = sr.provision_id
""",
)
# Any dirty region (ancestors included) dirties the policies whose targets or jurisdiction
# are that region: their actuals and exposure count what lies within it.
registry.register_expansion(
    """
SELECT 'policy' AS subject_type, t.policy_id AS subject_id, d.change_id
  FROM dirty d JOIN policies_policytarget t ON t.region_id = d.subject_id
 WHERE d.subject_type = 'region'
UNION ALL
SELECT 'policy', pol.id, d.change_id
  FROM dirty d JOIN policies_policy pol ON pol.jurisdiction_id = d.subject_id
 WHERE d.subject_type = 'region'
"""
)
# Targets counting converted investment and subsidy exposure read exchange rates: a rate
# change dirties every policy (a handful, against the many projects it re-converts).
registry.register_change_mapping(
    "portal_exchangerate",
    "SELECT 'policy' AS subject_type, pol.id AS subject_id, r.change_id "
    "FROM {rows} r CROSS JOIN policies_policy pol",
)
