"""Metric SQL of the companies app: facilities per company; companies, foreign-invested share
and facilities per region (rolled up the region tree); portal-wide counts.

Registered with the portal metrics registry (discovered by module name). Region roll-ups
aggregate per leaf region first, then add each leaf's figures into every ancestor via the
materialised path, so the cost is rows + regions × depth, not rows × depth.
"""

from portal.metrics import registry, sql

# One scan, two groupings: by kind and by status.
COMPANY_FACILITIES = """
SELECT f.company_id AS subject_id,
       CASE WHEN GROUPING(f.kind) = 1 THEN 'facilities_by_status' ELSE 'facilities_by_kind' END
           AS name,
       CASE WHEN GROUPING(f.kind) = 1 THEN jsonb_build_object('status', f.status)
            ELSE jsonb_build_object('kind', f.kind) END AS dimensions,
       count(*) AS value, 'facilities' AS unit,
       jsonb_build_object('row_count', count(*)) AS inputs
  FROM companies_facility f
 WHERE %(subject_ids)s::bigint[] IS NULL OR f.company_id = ANY(%(subject_ids)s::bigint[])
 GROUP BY GROUPING SETS ((f.company_id, f.kind), (f.company_id, f.status))
"""

# Companies (kind "company": institutions such as universities are partners, not industry)
# registered within each region, and how many are foreign-invested by the ownership period
# in force today.
REGION_COMPANIES = sql.compose(
    "WITH",
    sql.REGION_ANCESTORS_CTE,
    """,
leaf AS (
    SELECT c.registered_region_id AS region_id, count(*) AS companies,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM companies_ownershipperiod o
                WHERE o.company_id = c.id AND o.ownership_type = 'foreign_invested'
                  AND (o.effective_from IS NULL OR o.effective_from <= %(today)s)
                  AND (o.effective_to IS NULL OR o.effective_to >= %(today)s)
           )) AS foreign_invested
      FROM companies_company c
     WHERE c.kind = 'company'
       AND c.registered_region_id IN (SELECT region_id FROM region_ancestors)
     GROUP BY c.registered_region_id
),
rolled AS (
    SELECT a.ancestor_id AS region_id, sum(l.companies) AS companies,
           sum(l.foreign_invested) AS foreign_invested
      FROM leaf l JOIN region_ancestors a ON a.region_id = l.region_id
     GROUP BY a.ancestor_id
),
lineage AS (
    SELECT r.region_id,
           jsonb_build_object('row_count', r.companies, 'foreign_invested', r.foreign_invested,
                              'ownership_in_force_on', %(today)s::date) AS inputs
      FROM rolled r
)
SELECT r.region_id AS subject_id, 'companies' AS name, '{}'::jsonb AS dimensions,
       r.companies AS value, 'companies' AS unit, l.inputs
  FROM rolled r JOIN lineage l USING (region_id)
UNION ALL
SELECT r.region_id, 'foreign_invested_companies', '{}'::jsonb, r.foreign_invested,
       'companies', l.inputs
  FROM rolled r JOIN lineage l USING (region_id)
UNION ALL
SELECT r.region_id, 'foreign_invested_share', '{}'::jsonb,
       r.foreign_invested::numeric / r.companies, 'ratio', l.inputs
  FROM rolled r JOIN lineage l USING (region_id)
 WHERE r.companies > 0
""",
)

REGION_FACILITIES = sql.compose(
    "WITH",
    sql.REGION_ANCESTORS_CTE,
    """,
leaf AS (
    SELECT f.region_id, f.status, f.kind, count(*) AS n
      FROM companies_facility f
     WHERE f.region_id IN (SELECT region_id FROM region_ancestors)
     GROUP BY f.region_id, f.status, f.kind
)
SELECT a.ancestor_id AS subject_id,
       CASE WHEN GROUPING(l.kind) = 1 THEN 'facilities_by_status' ELSE 'facilities_by_kind' END
           AS name,
       CASE WHEN GROUPING(l.kind) = 1 THEN jsonb_build_object('status', l.status)
            ELSE jsonb_build_object('kind', l.kind) END AS dimensions,
       sum(l.n) AS value, 'facilities' AS unit,
       jsonb_build_object('row_count', sum(l.n)) AS inputs
  FROM leaf l JOIN region_ancestors a ON a.region_id = l.region_id
 GROUP BY GROUPING SETS ((a.ancestor_id, l.status), (a.ancestor_id, l.kind))
""",
)

PORTAL_COMPANIES = """
SELECT NULL::bigint AS subject_id, 'companies' AS name, '{}'::jsonb AS dimensions,
       count(*) AS value, 'companies' AS unit,
       jsonb_build_object('row_count', count(*)) AS inputs
  FROM companies_company WHERE kind = 'company'
UNION ALL
SELECT NULL, 'facilities_by_status', jsonb_build_object('status', status), count(*),
       'facilities', jsonb_build_object('row_count', count(*))
  FROM companies_facility GROUP BY status
"""

registry.register_family(
    registry.MetricFamily(
        key="company.facilities",
        subject_type="company",
        names=("facilities_by_kind", "facilities_by_status"),
        sql=COMPANY_FACILITIES,
        tables=("companies_facility",),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="region.companies",
        subject_type="region",
        names=("companies", "foreign_invested_companies", "foreign_invested_share"),
        sql=REGION_COMPANIES,
        tables=("companies_company", "companies_ownershipperiod", "portal_region"),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="region.facilities",
        subject_type="region",
        names=("facilities_by_status", "facilities_by_kind"),
        sql=REGION_FACILITIES,
        tables=("companies_facility", "portal_region"),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="portal.companies",
        subject_type="portal",
        names=("companies", "facilities_by_status"),
        sql=PORTAL_COMPANIES,
        tables=("companies_company", "companies_facility"),
    )
)

# Which subjects a change affects: both row images (old and new) are mapped, so a facility
# moved from one region to another dirties both.
registry.register_change_mapping(
    "companies_company", registry.company_and_region_mapping("id", "registered_region_id")
)
registry.register_change_mapping(
    "companies_ownershipperiod", registry.company_and_region_mapping("company_id")
)
registry.register_change_mapping(
    "companies_facility", registry.company_and_region_mapping("company_id", "region_id")
)
registry.register_change_mapping(
    "companies_facilitystatuschange",
    """
SELECT 'company' AS subject_type, f.company_id AS subject_id, r.change_id
  FROM {rows} r JOIN companies_facility f ON f.id = (r.data ->> 'facility_id')::bigint
UNION ALL
SELECT 'region', f.region_id, r.change_id
  FROM {rows} r JOIN companies_facility f ON f.id = (r.data ->> 'facility_id')::bigint
""",
)
