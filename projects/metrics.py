"""Metric SQL of the projects app: investment totals (original currency, CNY, USD), product
stages and regulatory milestones, per company, per region (rolled up) and portal-wide.

Investment figures read the running totals in CompanyInvestmentCell and RegionInvestmentCell,
which database triggers keep exact on every project write (see `projects.investment_cells`
for the conversion rule) and which a full recompute first rebuilds from the projects. The
families are keyed: the triggers queue each changed cell, and an incremental run rewrites only
the queued slices (a company's amount kind; a region's amount kind and year), naming each of
their figures that no longer exists by a tombstone (a row with a NULL value) for the run to
delete.

Rules every statement keeps:
- amounts of different amount kinds are never added up: amount_kind is always a dimension;
- each amount converts at its announcement date's rate; an amount without a rate stays in the
  original-currency totals and is counted as `unconverted_count` in the converted totals'
  lineage, never silently dropped.
"""

from portal.metrics import registry, sql
from projects import investment_cells

# The cells of one grain a run reads: every cell (full), the subjects' (by subject), or the
# slices of the queued cells (pending only; `queued_slices`, also what the tombstones of
# converted totals are found from). `queued_cells` are the queued keys as columns (`{cell}`
# parses `s.part`, in the cell key's column order), `{slice}` lists a scope row's slice and
# `{slice_match}` finds its cells, one index probe per slice (OFFSET 0 keeps the
# planner from turning the probes into a scan of every cell). A pending run then writes the
# per-currency figure of the queued cells only, and the converted totals of their slices.
_CELLS = """
queued_cells AS MATERIALIZED (
    SELECT s.subject_id, {cell} FROM scope s WHERE %(pending_only)s
),
queued_slices AS (
    SELECT DISTINCT s.subject_id, {slice} FROM scope s WHERE %(pending_only)s
),
cells AS MATERIALIZED (
    SELECT * FROM {table} c
     WHERE NOT %(pending_only)s
       AND (%(subject_ids)s::bigint[] IS NULL OR c.{subject} = ANY(%(subject_ids)s::bigint[]))
    UNION ALL
    SELECT c.*
      FROM queued_slices AS queued
     CROSS JOIN LATERAL (
           SELECT * FROM {table} c WHERE c.{subject} = queued.subject_id AND {slice_match}
           OFFSET 0) AS c
)"""

# Consumes the queue of one grain (only the in-scope subjects' entries on a subject run).
_PENDING = """
DELETE FROM projects_investmentcellchange q
 WHERE q.grain = '{grain}' AND (SELECT ok FROM allowed)
   AND (%(subject_ids)s::bigint[] IS NULL OR q.subject_id = ANY(%(subject_ids)s::bigint[]))
RETURNING q.subject_id, q.part, q.new_cell
"""

# A company's total of one amount kind converted to one currency (`{currency}`: cny or usd;
# `{unit}`: its ISO code), and in a pending run a tombstone for each queued slice with no
# converted project left.
_COMPANY_CONVERTED_TOTAL = """UNION ALL
SELECT company_id, 'investment_total_{currency}', jsonb_build_object('amount_kind', amount_kind),
       round(sum(amount_{currency}), 2), '{unit}',
       jsonb_build_object('row_count', sum(projects),
                          'unconverted_count', sum(projects - converted_{currency}))
  FROM cells GROUP BY company_id, amount_kind HAVING sum(converted_{currency}) > 0
UNION ALL
SELECT gone.subject_id, 'investment_total_{currency}',
       jsonb_build_object('amount_kind', gone.amount_kind), NULL, '{unit}', '{{}}'::jsonb
  FROM (SELECT subject_id, amount_kind FROM queued_slices
        EXCEPT
        SELECT company_id, amount_kind FROM cells WHERE converted_{currency} > 0) AS gone
"""

# Per (company, amount kind, currency); the converted totals add up the currencies of one
# amount kind (never two kinds). Joins against the queue hash: keyed statements run with
# nested loops off (see sql.FAMILY_LOCK).
COMPANY_INVESTMENT = sql.compose(
    "WITH",
    _CELLS.format(
        table="projects_companyinvestmentcell",
        subject="company_id",
        # Every currency of a queued cell's amount kind: the converted totals add them up.
        cell="split_part(s.part, '|', 1) AS amount_kind, split_part(s.part, '|', 2) AS currency",
        slice="split_part(s.part, '|', 1) AS amount_kind",
        slice_match="c.amount_kind = queued.amount_kind",
    ),
    """
SELECT company_id AS subject_id, 'investment_total' AS name,
       jsonb_build_object('amount_kind', amount_kind, 'currency', currency) AS dimensions,
       amount AS value, currency AS unit, jsonb_build_object('row_count', projects) AS inputs
  FROM cells WHERE NOT %(pending_only)s
UNION ALL
-- Each queued cell's figure, or a tombstone where the cell no longer exists.
SELECT q.subject_id, 'investment_total',
       jsonb_build_object('amount_kind', q.amount_kind, 'currency', q.currency), c.amount,
       q.currency,
       CASE WHEN c.company_id IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('row_count', c.projects) END
  FROM queued_cells q
  LEFT JOIN cells c
    ON c.company_id = q.subject_id AND c.amount_kind = q.amount_kind
   AND c.currency = q.currency
""",
    *(
        _COMPANY_CONVERTED_TOTAL.format(currency=currency, unit=currency.upper())
        for currency in ("cny", "usd")
    ),
)

# Projects count where the money goes (project.region); a region's cells already include every
# descendant's projects.
REGION_INVESTMENT = sql.compose(
    "WITH",
    _CELLS.format(
        table="projects_regioninvestmentcell",
        subject="region_id",
        cell="split_part(s.part, '|', 1) AS amount_kind, split_part(s.part, '|', 2)::int AS year,"
        " split_part(s.part, '|', 3) AS currency",
        slice="split_part(s.part, '|', 1) AS amount_kind, split_part(s.part, '|', 2)::int AS year",
        slice_match="c.amount_kind = queued.amount_kind AND c.year = queued.year",
    ),
    """
SELECT region_id AS subject_id, 'investment_total' AS name,
       jsonb_build_object('amount_kind', amount_kind, 'currency', currency, 'year', year)
           AS dimensions,
       amount AS value, currency AS unit, jsonb_build_object('row_count', projects) AS inputs
  FROM cells WHERE NOT %(pending_only)s
UNION ALL
-- Each queued cell's figure, or a tombstone where the cell no longer exists.
SELECT q.subject_id, 'investment_total',
       jsonb_build_object('amount_kind', q.amount_kind, 'currency', q.currency, 'year', q.year),
       c.amount, q.currency,
       CASE WHEN c.region_id IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('row_count', c.projects) END
  FROM queued_cells q
  LEFT JOIN cells c
    ON c.region_id = q.subject_id AND c.amount_kind = q.amount_kind AND c.year = q.year
   AND c.currency = q.currency
UNION ALL
SELECT region_id, 'investment_total_cny',
       jsonb_build_object('amount_kind', amount_kind, 'year', year),
       round(sum(amount_cny), 2), 'CNY',
       jsonb_build_object('row_count', sum(projects),
                          'unconverted_count', sum(projects - converted_cny))
  FROM cells GROUP BY region_id, amount_kind, year
HAVING sum(converted_cny) > 0
UNION ALL
-- A queued slice with no converted project left: its converted total goes.
SELECT gone.subject_id, 'investment_total_cny',
       jsonb_build_object('amount_kind', gone.amount_kind, 'year', gone.year), NULL, 'CNY',
       '{}'::jsonb
  FROM (SELECT subject_id, amount_kind, year FROM queued_slices
        EXCEPT
        SELECT region_id, amount_kind, year FROM cells WHERE converted_cny > 0) AS gone
""",
)

# Every project with an amount counts in exactly one root region, so the roots' cells add up to
# the portal; projects without an amount (not in any cell) are counted on their own index.
PORTAL_INVESTMENT = """
SELECT NULL::bigint AS subject_id, 'investment_total_cny' AS name,
       jsonb_build_object('amount_kind', c.amount_kind) AS dimensions,
       round(sum(c.amount_cny), 2) AS value, 'CNY' AS unit,
       jsonb_build_object('row_count', sum(c.projects),
                          'unconverted_count', sum(c.projects - c.converted_cny)) AS inputs
  FROM projects_regioninvestmentcell c
  JOIN portal_region r ON r.id = c.region_id AND r.parent_id IS NULL
 GROUP BY c.amount_kind HAVING sum(c.converted_cny) > 0
UNION ALL
SELECT NULL::bigint, 'projects', '{}'::jsonb, total, 'projects',
       jsonb_build_object('row_count', total)
  FROM (SELECT (SELECT coalesce(sum(c.projects), 0)
                  FROM projects_regioninvestmentcell c
                  JOIN portal_region r ON r.id = c.region_id AND r.parent_id IS NULL)
               + (SELECT count(*) FROM projects_investmentproject WHERE amount IS NULL)
               AS total
        OFFSET 0) AS projects  -- OFFSET 0: counted once, not once per use of `total`
"""

# A product's stage is the most advanced regulatory milestone kind it has reached (the
# regulatory order below; a breakthrough designation is not a stage), latest date on ties.
COMPANY_PRODUCTS_AND_MILESTONES = """
WITH products AS (
    SELECT p.id, p.company_id FROM projects_product p
     WHERE %(subject_ids)s::bigint[] IS NULL OR p.company_id = ANY(%(subject_ids)s::bigint[])
),
stages AS (
    SELECT DISTINCT ON (m.product_id) m.product_id, m.kind
      FROM projects_regulatorymilestone m JOIN products p ON p.id = m.product_id
     WHERE m.kind IN ('clinical_trial_approval', 'registration_filing',
                      'market_authorization', 'commercial_launch')
     ORDER BY m.product_id,
              array_position(ARRAY['clinical_trial_approval', 'registration_filing',
                                   'market_authorization', 'commercial_launch']::varchar[],
                             m.kind) DESC,
              m.date DESC
)
SELECT p.company_id AS subject_id, 'products_by_stage' AS name,
       jsonb_build_object('stage', coalesce(s.kind, 'no_milestone')) AS dimensions,
       count(*) AS value, 'products' AS unit,
       jsonb_build_object('row_count', count(*)) AS inputs
  FROM products p LEFT JOIN stages s ON s.product_id = p.id
 GROUP BY p.company_id, coalesce(s.kind, 'no_milestone')
UNION ALL
SELECT p.company_id, 'milestones_by_kind_year',
       jsonb_build_object('kind', m.kind, 'year', extract(year FROM m.date)::int), count(*),
       'milestones',
       jsonb_build_object('row_count', count(*))
  FROM projects_regulatorymilestone m JOIN products p ON p.id = m.product_id
 GROUP BY p.company_id, m.kind, extract(year FROM m.date)::int
"""

# Milestones count in the region of the product's company (where it is registered): a
# clinical trial approval's own region is the approving jurisdiction (NMPA: all of China),
# which says nothing about whether Shanghai's industry earned it.
REGION_MILESTONES = sql.compose(
    "WITH",
    sql.REGION_ANCESTORS_CTE,
    """,
leaf AS (
    SELECT c.registered_region_id AS region_id, m.kind,
           extract(year FROM m.date)::int AS year, count(*) AS n
      FROM projects_regulatorymilestone m
      JOIN projects_product p ON p.id = m.product_id
      JOIN companies_company c ON c.id = p.company_id
     WHERE c.registered_region_id IN (SELECT region_id FROM region_ancestors)
     GROUP BY c.registered_region_id, m.kind, extract(year FROM m.date)::int
)
SELECT a.ancestor_id AS subject_id, 'milestones_by_kind_year' AS name,
       jsonb_build_object('kind', l.kind, 'year', l.year) AS dimensions, sum(l.n) AS value,
       'milestones' AS unit,
       jsonb_build_object('row_count', sum(l.n)) AS inputs
  FROM leaf l JOIN region_ancestors a ON a.region_id = l.region_id
 GROUP BY a.ancestor_id, l.kind, l.year
""",
)

registry.register_family(
    registry.MetricFamily(
        key="company.investment",
        subject_type="company",
        names=("investment_total", "investment_total_cny", "investment_total_usd"),
        sql=COMPANY_INVESTMENT,
        tables=(
            "projects_investmentproject",
            "portal_exchangerate",
            "projects_companyinvestmentcell",
        ),
        pending_sql=_PENDING.format(grain="company"),
        live=True,
    )
)
registry.register_family(
    registry.MetricFamily(
        key="company.products",
        subject_type="company",
        names=("products_by_stage", "milestones_by_kind_year"),
        sql=COMPANY_PRODUCTS_AND_MILESTONES,
        tables=("projects_product", "projects_regulatorymilestone"),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="region.investment",
        subject_type="region",
        names=("investment_total", "investment_total_cny"),
        sql=REGION_INVESTMENT,
        tables=(
            "projects_investmentproject",
            "portal_exchangerate",
            "portal_region",
            "projects_regioninvestmentcell",
        ),
        pending_sql=_PENDING.format(grain="region"),
        live=True,
    )
)
registry.register_family(
    registry.MetricFamily(
        key="region.milestones",
        subject_type="region",
        names=("milestones_by_kind_year",),
        sql=REGION_MILESTONES,
        tables=(
            "projects_regulatorymilestone",
            "projects_product",
            "companies_company",
            "portal_region",
        ),
    )
)
registry.register_family(
    registry.MetricFamily(
        key="portal.investment",
        subject_type="portal",
        names=("investment_total_cny", "projects"),
        sql=PORTAL_INVESTMENT,
        tables=(
            "projects_investmentproject",
            "portal_exchangerate",
            "projects_regioninvestmentcell",
        ),
    )
)
registry.register_refresh("projects.investment_cells", investment_cells.REBUILD_STATEMENT)

registry.register_change_mapping(
    "projects_investmentproject", registry.company_and_region_mapping("company_id", "region_id")
)
registry.register_change_mapping(
    "projects_product", registry.company_and_region_mapping("company_id")
)
registry.register_change_mapping(
    "projects_regulatorymilestone",
    """
SELECT 'company' AS subject_type, p.company_id AS subject_id, r.change_id
  FROM {rows} r JOIN projects_product p ON p.id = (r.data ->> 'product_id')::bigint
UNION ALL
SELECT 'region', c.registered_region_id, r.change_id
  FROM {rows} r JOIN projects_product p ON p.id = (r.data ->> 'product_id')::bigint
  JOIN companies_company c ON c.id = p.company_id
""",
)
# A rate change re-converts projects in the cells (a trigger rebuilds them and queues what
# changed), so it names no subject itself: the portal subject every change carries is enough to
# schedule the keyed families and the policy figures that read rates.
registry.register_change_mapping(
    "portal_exchangerate",
    "SELECT NULL::text AS subject_type, NULL::bigint AS subject_id, r.change_id "
    "FROM {rows} r WHERE false",
)
