"""Metric SQL of the projects app: investment totals (original currency, CNY, USD), product
stages and regulatory milestones, per company, per region (rolled up) and portal-wide.

Rules every statement keeps:
- amounts of different amount kinds are never added up: amount_kind is always a dimension;
- each amount converts at its announcement date's rate: the latest ExchangeRate on or before
  that date, else the earliest after it; USD goes through CNY (amount × rate_to_cny(cur) /
  rate_to_cny(USD), both on that date's rule), each converted USD amount kept to 6 decimals
  (a millionth of a dollar; totals are stored to the cent) so sums stay cheap;
- an amount without a rate stays in the original-currency totals and is counted as
  `unconverted_count` in the converted totals' lineage, never silently dropped;
- rates are expanded once into a (currency, day) calendar and joined by hash.
"""

from portal.metrics import registry, sql

# {scope} is replaced by a WHERE condition on `p` (an investment project). Each currency's
# rates become validity periods (a rate holds from its date until the next one; the earliest
# also covers every earlier day), expanded into a calendar of the days projects can fall on
# (min/max come from the announced_on index), so converting a project is a hash join on
# (currency, day) rather than a search per project.
CONVERTED_CTES = """
rate_periods AS (
    SELECT er.currency, er.rate_to_cny,
           CASE WHEN lag(er.date) OVER w IS NULL THEN '-infinity'::date ELSE er.date END
               AS valid_from,
           coalesce(lead(er.date) OVER w, 'infinity'::date) AS valid_to
      FROM portal_exchangerate er
    WINDOW w AS (PARTITION BY er.currency ORDER BY er.date)
),
day_rates AS MATERIALIZED (
    SELECT rp.currency, day::date AS day, rp.rate_to_cny
      FROM (SELECT min(announced_on) AS first, max(announced_on) AS last
              FROM projects_investmentproject) AS span
     CROSS JOIN generate_series(span.first, span.last, interval '1 day') AS day
      JOIN rate_periods rp ON day >= rp.valid_from AND day < rp.valid_to
),
converted AS (
    SELECT p.id, p.company_id, p.region_id, p.amount_kind, p.currency, p.amount,
           p.announced_on, extract(year FROM p.announced_on)::int AS year,
           p.amount * CASE WHEN p.currency = 'CNY' THEN 1::numeric ELSE cny.rate_to_cny END
               AS amount_cny,
           CASE WHEN p.currency = 'USD' THEN p.amount
                ELSE round(p.amount * CASE WHEN p.currency = 'CNY' THEN 1::numeric
                                           ELSE cny.rate_to_cny END / usd.rate_to_cny, 6) END
               AS amount_usd
      FROM projects_investmentproject p
      LEFT JOIN day_rates cny ON cny.currency = p.currency AND cny.day = p.announced_on
      LEFT JOIN day_rates usd ON usd.currency = 'USD' AND usd.day = p.announced_on
     WHERE p.amount IS NOT NULL AND ({scope})
)"""

# Per (company, amount kind, currency) in one pass; the converted totals add up the
# currencies of one amount kind (never two kinds).
COMPANY_INVESTMENT = sql.compose(
    "WITH",
    CONVERTED_CTES.replace(
        "{scope}",
        "%(subject_ids)s::bigint[] IS NULL OR p.company_id = ANY(%(subject_ids)s::bigint[])",
    ),
    """,
cells AS MATERIALIZED (
    SELECT company_id, amount_kind, currency, sum(amount) AS amount,
           sum(amount_cny) AS amount_cny, sum(amount_usd) AS amount_usd, count(*) AS n,
           count(amount_cny) AS n_cny, count(amount_usd) AS n_usd
      FROM converted GROUP BY company_id, amount_kind, currency
)
SELECT company_id AS subject_id, 'investment_total' AS name,
       jsonb_build_object('amount_kind', amount_kind, 'currency', currency) AS dimensions,
       amount AS value, currency AS unit, jsonb_build_object('row_count', n) AS inputs
  FROM cells
UNION ALL
SELECT company_id, 'investment_total_cny', jsonb_build_object('amount_kind', amount_kind),
       round(sum(amount_cny), 2), 'CNY',
       jsonb_build_object('row_count', sum(n), 'unconverted_count', sum(n - n_cny))
  FROM cells GROUP BY company_id, amount_kind HAVING sum(n_cny) > 0
UNION ALL
SELECT company_id, 'investment_total_usd', jsonb_build_object('amount_kind', amount_kind),
       round(sum(amount_usd), 2), 'USD',
       jsonb_build_object('row_count', sum(n), 'unconverted_count', sum(n - n_usd))
  FROM cells GROUP BY company_id, amount_kind HAVING sum(n_usd) > 0
""",
)

# Projects count where the money goes (project.region), rolled up the region tree.
REGION_INVESTMENT = sql.compose(
    "WITH",
    sql.REGION_ANCESTORS_CTE,
    ",",
    CONVERTED_CTES.replace("{scope}", "p.region_id IN (SELECT region_id FROM region_ancestors)"),
    """,
leaf AS (
    SELECT region_id, amount_kind, currency, year, sum(amount) AS amount,
           sum(amount_cny) AS amount_cny, count(*) AS n, count(amount_cny) AS n_converted
      FROM converted GROUP BY region_id, amount_kind, currency, year
),
rolled AS MATERIALIZED (
    SELECT a.ancestor_id AS region_id, l.amount_kind, l.currency, l.year,
           sum(l.amount) AS amount, sum(l.amount_cny) AS amount_cny, sum(l.n) AS n,
           sum(l.n_converted) AS n_converted
      FROM leaf l JOIN region_ancestors a ON a.region_id = l.region_id
     GROUP BY a.ancestor_id, l.amount_kind, l.currency, l.year
)
SELECT region_id AS subject_id, 'investment_total' AS name,
       jsonb_build_object('amount_kind', amount_kind, 'currency', currency, 'year', year)
           AS dimensions,
       amount AS value, currency AS unit, jsonb_build_object('row_count', n) AS inputs
  FROM rolled
UNION ALL
SELECT region_id, 'investment_total_cny',
       jsonb_build_object('amount_kind', amount_kind, 'year', year),
       round(sum(amount_cny), 2), 'CNY',
       jsonb_build_object('row_count', sum(n), 'unconverted_count', sum(n - n_converted))
  FROM rolled GROUP BY region_id, amount_kind, year
HAVING sum(n_converted) > 0
""",
)

PORTAL_INVESTMENT = sql.compose(
    "WITH",
    CONVERTED_CTES.replace("{scope}", "TRUE"),
    """
SELECT NULL::bigint AS subject_id, 'investment_total_cny' AS name,
       jsonb_build_object('amount_kind', amount_kind) AS dimensions,
       round(sum(amount_cny), 2) AS value, 'CNY' AS unit,
       jsonb_build_object('row_count', count(*),
                          'unconverted_count', count(*) - count(amount_cny)) AS inputs
  FROM converted GROUP BY amount_kind HAVING count(amount_cny) > 0
UNION ALL
SELECT NULL::bigint, 'projects', '{}'::jsonb, count(*), 'projects',
       jsonb_build_object('row_count', count(*))
  FROM projects_investmentproject
""",
)

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
        tables=("projects_investmentproject", "portal_exchangerate"),
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
        tables=("projects_investmentproject", "portal_exchangerate", "portal_region"),
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
        tables=("projects_investmentproject", "portal_exchangerate"),
    )
)

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
# A rate change re-converts every project in that currency; a USD rate change every project
# (USD totals go through the USD rate).
registry.register_change_mapping(
    "portal_exchangerate",
    """
SELECT DISTINCT s.subject_type, s.subject_id, r.change_id
  FROM {rows} r
  JOIN projects_investmentproject p
    ON p.currency = r.data ->> 'currency' OR r.data ->> 'currency' = 'USD'
 CROSS JOIN LATERAL (VALUES ('company', p.company_id), ('region', p.region_id))
       AS s(subject_type, subject_id)
""",
)
