"""Database-side upkeep of the investment cells (CompanyInvestmentCell, RegionInvestmentCell).

Statement-level triggers on `projects_investmentproject` apply each write's signed delta (old
row images subtract, new ones add) to the cells in the same transaction, and queue the changed
cells in `projects_investmentcellchange` for the metric families. A changed exchange rate or a
moved region changes many cells at once: those triggers rebuild the cells from the projects
(the same function a full metric recompute runs to verify them).

Conversion rule (shared with the metric docs in `projects.metrics`): each amount converts at
its announcement date's rate, the latest ExchangeRate on or before that date, else the earliest
after it; USD goes through CNY and is kept to 6 decimals per project; an amount without a rate
is counted as not converted, never dropped.
"""

from portal.metrics.sql import compose


def company_cell_part(prefix: str = "") -> str:
    """SQL naming a company cell within its company in the queue: "amount kind|currency"."""
    return f"{prefix}amount_kind || '|' || {prefix}currency"


def region_cell_part(prefix: str = "") -> str:
    """SQL naming a region cell within its region in the queue: "amount kind|year|currency"."""
    return f"{prefix}amount_kind || '|' || {prefix}year || '|' || {prefix}currency"


# (currency, day) → rate for every day of a span: each rate holds from its date until the next
# one, and the earliest also covers every earlier day. Joined by hash, not searched per row.
DAY_RATES_FUNCTION = """
CREATE OR REPLACE FUNCTION projects_day_rates(first_day date, last_day date)
RETURNS TABLE (currency varchar, day date, rate_to_cny numeric)
LANGUAGE sql STABLE AS $$
    WITH rate_periods AS (
        SELECT er.currency, er.rate_to_cny,
               CASE WHEN lag(er.date) OVER w IS NULL THEN '-infinity'::date ELSE er.date END
                   AS valid_from,
               coalesce(lead(er.date) OVER w, 'infinity'::date) AS valid_to
          FROM portal_exchangerate er
        WINDOW w AS (PARTITION BY er.currency ORDER BY er.date)
    )
    SELECT rp.currency, d.day::date, rp.rate_to_cny
      FROM generate_series(first_day, last_day, interval '1 day') AS d(day)
      JOIN rate_periods rp ON d.day >= rp.valid_from AND d.day < rp.valid_to
$$;
"""

# Converted project rows from any source of (sign, company_id, region_id, amount_kind,
# currency, amount, announced_on) named `source`; used by the delta and the rebuild alike.
CONVERTED = """
span AS (SELECT min(announced_on) AS first_day, max(announced_on) AS last_day FROM source),
rates AS MATERIALIZED (
    SELECT r.* FROM span, projects_day_rates(span.first_day, span.last_day) AS r
),
converted AS (
    SELECT s.sign, s.company_id, s.region_id, s.amount_kind, s.currency,
           s.announced_on, extract(year FROM s.announced_on)::int AS year, s.amount,
           s.amount * CASE WHEN s.currency = 'CNY' THEN 1::numeric ELSE cny.rate_to_cny END
               AS amount_cny,
           CASE WHEN s.currency = 'USD' THEN s.amount
                ELSE round(s.amount * CASE WHEN s.currency = 'CNY' THEN 1::numeric
                                           ELSE cny.rate_to_cny END / usd.rate_to_cny, 6) END
               AS amount_usd
      FROM source s
      LEFT JOIN rates cny ON cny.currency = s.currency AND cny.day = s.announced_on
      LEFT JOIN rates usd ON usd.currency = 'USD' AND usd.day = s.announced_on
)"""

# Every project with an amount that meets `{scope}` (a condition on `p`), converted.
CONVERTED_PROJECTS = compose(
    """
source AS (
    SELECT 1 AS sign, p.company_id, p.region_id, p.amount_kind, p.currency, p.amount,
           p.announced_on
      FROM projects_investmentproject p
     WHERE p.amount IS NOT NULL AND ({scope})
),""",
    CONVERTED,
)

DELTA_TYPE = """
DO $$ BEGIN
    CREATE TYPE projects_investment_delta AS (
        sign integer, company_id bigint, region_id bigint, amount_kind varchar,
        currency varchar, amount numeric, announced_on date);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
"""

# Applies signed project rows to both cell tables, deletes emptied cells, queues what changed.
# Rows are upserted in key order so concurrent writers lock cells in the same order.
_APPLY_TEMPLATE = compose(
    """
CREATE OR REPLACE FUNCTION projects_investment_cells_apply(deltas projects_investment_delta[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    emptied_companies bigint[];
    emptied_regions bigint[];
BEGIN
    IF coalesce(cardinality(deltas), 0) = 0 THEN
        RETURN;
    END IF;
    WITH source AS (SELECT * FROM unnest(deltas)),""",
    CONVERTED,
    """,
    company_delta AS MATERIALIZED (
        SELECT company_id, amount_kind, currency, sum(sign * amount) AS amount,
               coalesce(sum(sign * amount_cny), 0) AS amount_cny,
               coalesce(sum(sign * amount_usd), 0) AS amount_usd, sum(sign) AS projects,
               coalesce(sum(sign) FILTER (WHERE amount_cny IS NOT NULL), 0) AS converted_cny,
               coalesce(sum(sign) FILTER (WHERE amount_usd IS NOT NULL), 0) AS converted_usd
          FROM converted GROUP BY company_id, amount_kind, currency
    ),
    upserted AS (
        INSERT INTO projects_companyinvestmentcell AS c
            (company_id, amount_kind, currency, amount, amount_cny, amount_usd, projects,
             converted_cny, converted_usd{lineage_columns})
        SELECT d.*{lineage_values} FROM company_delta d
         WHERE (amount, amount_cny, amount_usd, projects, converted_cny, converted_usd)
               <> (0, 0, 0, 0, 0, 0)
         ORDER BY company_id, amount_kind, currency
        ON CONFLICT (company_id, amount_kind, currency) DO UPDATE
           SET amount = c.amount + EXCLUDED.amount,
               amount_cny = c.amount_cny + EXCLUDED.amount_cny,
               amount_usd = c.amount_usd + EXCLUDED.amount_usd,
               projects = c.projects + EXCLUDED.projects,
               converted_cny = c.converted_cny + EXCLUDED.converted_cny,
               converted_usd = c.converted_usd + EXCLUDED.converted_usd{lineage_assign}
        RETURNING c.id, c.company_id, c.amount_kind, c.currency, c.projects,
                  c.xmax = 0 AS inserted
    ),
    queued AS (
        INSERT INTO projects_investmentcellchange (grain, subject_id, part{queue_new_cell})
        SELECT DISTINCT 'company', company_id, """,
    company_cell_part(),
    """{new_cell_of_upserted} FROM upserted
    )
    SELECT array_agg(id) FILTER (WHERE projects = 0) INTO emptied_companies FROM upserted;

    WITH source AS (SELECT * FROM unnest(deltas)),""",
    CONVERTED,
    """,
    region_delta AS MATERIALIZED (
        SELECT ancestor.id AS region_id, v.amount_kind, v.currency, v.year,
               sum(v.sign * v.amount) AS amount,
               coalesce(sum(v.sign * v.amount_cny), 0) AS amount_cny,
               sum(v.sign) AS projects,
               coalesce(sum(v.sign) FILTER (WHERE v.amount_cny IS NOT NULL), 0)
                   AS converted_cny
          FROM converted v
          JOIN portal_region r ON r.id = v.region_id
         CROSS JOIN LATERAL unnest(string_to_array(btrim(r.path, '/'), '/')::bigint[])
               AS ancestor(id)
         GROUP BY ancestor.id, v.amount_kind, v.currency, v.year
    ),
    upserted AS (
        INSERT INTO projects_regioninvestmentcell AS c
            (region_id, amount_kind, currency, year, amount, amount_cny, projects,
             converted_cny{lineage_columns})
        SELECT d.*{lineage_values} FROM region_delta d
         WHERE (amount, amount_cny, projects, converted_cny) <> (0, 0, 0, 0)
         ORDER BY region_id, amount_kind, currency, year
        ON CONFLICT (region_id, amount_kind, currency, year) DO UPDATE
           SET amount = c.amount + EXCLUDED.amount,
               amount_cny = c.amount_cny + EXCLUDED.amount_cny,
               projects = c.projects + EXCLUDED.projects,
               converted_cny = c.converted_cny + EXCLUDED.converted_cny{lineage_assign}
        RETURNING c.id, c.region_id, c.amount_kind, c.currency, c.year, c.projects,
                  c.xmax = 0 AS inserted
    ),
    queued AS (
        INSERT INTO projects_investmentcellchange (grain, subject_id, part{queue_new_cell})
        SELECT DISTINCT 'region', region_id, """,
    region_cell_part(),
    """{new_cell_of_upserted} FROM upserted
    )
    SELECT array_agg(id) FILTER (WHERE projects = 0) INTO emptied_regions FROM upserted;

    DELETE FROM projects_companyinvestmentcell
     WHERE id = ANY(emptied_companies) AND projects = 0;
    DELETE FROM projects_regioninvestmentcell WHERE id = ANY(emptied_regions) AND projects = 0;
END
$fn$;
""",
)

# One trigger function for the three statement triggers: a plpgsql statement referencing a
# transition table is only planned when its branch runs. An UPDATE that leaves the money
# columns alone (a title edit) contributes nothing.
WRITE_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION projects_investment_cells_on_write() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM projects_investment_cells_apply(ARRAY(
            SELECT ROW(1, n.company_id, n.region_id, n.amount_kind, n.currency, n.amount,
                       n.announced_on)::projects_investment_delta
              FROM new_rows n WHERE n.amount IS NOT NULL));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM projects_investment_cells_apply(ARRAY(
            SELECT ROW(-1, o.company_id, o.region_id, o.amount_kind, o.currency, o.amount,
                       o.announced_on)::projects_investment_delta
              FROM old_rows o WHERE o.amount IS NOT NULL));
    ELSE
        PERFORM projects_investment_cells_apply(ARRAY(
            WITH moved AS (
                SELECT o.company_id AS old_company, o.region_id AS old_region,
                       o.amount_kind AS old_kind, o.currency AS old_currency,
                       o.amount AS old_amount, o.announced_on AS old_on,
                       n.company_id, n.region_id, n.amount_kind, n.currency, n.amount,
                       n.announced_on
                  FROM old_rows o JOIN new_rows n ON n.id = o.id
                 WHERE (o.company_id, o.region_id, o.amount_kind, o.currency, o.amount,
                        o.announced_on)
                       IS DISTINCT FROM
                       (n.company_id, n.region_id, n.amount_kind, n.currency, n.amount,
                        n.announced_on)
            )
            SELECT ROW(-1, old_company, old_region, old_kind, old_currency, old_amount,
                       old_on)::projects_investment_delta
              FROM moved WHERE old_amount IS NOT NULL
            UNION ALL
            SELECT ROW(1, company_id, region_id, amount_kind, currency, amount,
                       announced_on)::projects_investment_delta
              FROM moved WHERE amount IS NOT NULL));
    END IF;
    RETURN NULL;
END
$fn$;
"""

# Recompute a cell table from every project, compare with what is stored, and correct and queue
# only the differences; returns how many cells differed (0 when the triggers kept them right).
# Corrections are applied as deltas and a vanished cell is deleted only if nobody touched it
# since this statement's snapshot, so a project write committing meanwhile is never lost.
_REBUILD_TEMPLATE = compose(
    """
CREATE OR REPLACE FUNCTION {function}() RETURNS integer LANGUAGE sql AS $fn$
    WITH""",
    CONVERTED_PROJECTS.replace("{scope}", "TRUE"),
    """,
    fresh AS MATERIALIZED ({fresh}),
    diff AS MATERIALIZED (
        SELECT {key_of_either}, c.id AS existing_id, f.projects IS NULL AS gone,
               {deltas}, {stored}
          FROM fresh f
          FULL JOIN {table} c ON {key_join}
         WHERE f.projects IS NULL OR c.id IS NULL OR ({values_of_c}) <> ({values_of_f})
    ),
    upserted AS (
        INSERT INTO {table} AS c ({columns}{lineage_columns})
        SELECT {delta_columns}{lineage_values} FROM diff WHERE NOT gone ORDER BY {either_key}
        ON CONFLICT ({key}) DO UPDATE SET {assign}{lineage_assign}
        RETURNING 1
    ),
    deleted AS (
        DELETE FROM {table} c USING diff d
         WHERE d.gone AND c.id = d.existing_id AND ({values_of_c}) = ({stored_of_d})
        RETURNING 1
    ),
    queued AS (
        INSERT INTO projects_investmentcellchange (grain, subject_id, part{queue_new_cell})
        SELECT DISTINCT '{grain}', {subject}, {part}{new_cell_of_rebuilt} FROM diff
        RETURNING 1
    )
    SELECT ((SELECT count(*) FROM upserted) + (SELECT count(*) FROM deleted))::integer
$fn$;
""",
)

_COMPANY_VALUES = (
    "amount",
    "amount_cny",
    "amount_usd",
    "projects",
    "converted_cny",
    "converted_usd",
)
_REGION_VALUES = ("amount", "amount_cny", "projects", "converted_cny")


def _rebuild_function(function, table, grain, key, values, fresh, part) -> str:
    def listed(template: str, columns) -> str:
        return ", ".join(template.format(column=column) for column in columns)

    replacements = {
        "{function}": function,
        "{table}": table,
        "{grain}": grain,
        "{fresh}": fresh,
        "{part}": part,
        "{subject}": f"either_{key[0]}",
        "{key}": ", ".join(key),
        "{either_key}": listed("either_{column}", key),
        "{columns}": ", ".join((*key, *values)),
        "{key_join}": " AND ".join(f"c.{column} = f.{column}" for column in key),
        "{key_of_either}": listed("coalesce(f.{column}, c.{column}) AS either_{column}", key),
        "{deltas}": listed(
            "coalesce(f.{column}, 0) - coalesce(c.{column}, 0) AS delta_{column}", values
        ),
        "{stored}": listed("c.{column} AS stored_{column}", values),
        "{delta_columns}": ", ".join(
            (*(f"either_{column}" for column in key), *(f"delta_{column}" for column in values))
        ),
        "{values_of_c}": listed("c.{column}", values),
        "{values_of_f}": listed("f.{column}", values),
        "{stored_of_d}": listed("d.stored_{column}", values),
        "{assign}": listed("{column} = c.{column} + EXCLUDED.{column}", values),
    }
    text = _REBUILD_TEMPLATE
    for placeholder, replacement in replacements.items():
        text = text.replace(placeholder, replacement)
    return text


_COMPANY_REBUILD_TEMPLATE = _rebuild_function(
    "projects_company_cells_rebuild",
    "projects_companyinvestmentcell",
    "company",
    ("company_id", "amount_kind", "currency"),
    _COMPANY_VALUES,
    """
        SELECT company_id, amount_kind, currency, sum(amount) AS amount,
               coalesce(sum(amount_cny), 0) AS amount_cny,
               coalesce(sum(amount_usd), 0) AS amount_usd, count(*)::int AS projects,
               count(amount_cny)::int AS converted_cny, count(amount_usd)::int AS converted_usd
          FROM converted GROUP BY company_id, amount_kind, currency""",
    company_cell_part("either_"),
)

_REGION_REBUILD_TEMPLATE = _rebuild_function(
    "projects_region_cells_rebuild",
    "projects_regioninvestmentcell",
    "region",
    ("region_id", "amount_kind", "currency", "year"),
    _REGION_VALUES,
    """
        WITH leaf AS (
            SELECT region_id, amount_kind, currency, year, sum(amount) AS amount,
                   coalesce(sum(amount_cny), 0) AS amount_cny, count(*) AS projects,
                   count(amount_cny) AS converted_cny
              FROM converted GROUP BY region_id, amount_kind, currency, year
        )
        SELECT ancestor.id AS region_id, l.amount_kind, l.currency, l.year,
               sum(l.amount) AS amount, sum(l.amount_cny) AS amount_cny,
               sum(l.projects)::int AS projects, sum(l.converted_cny)::int AS converted_cny
          FROM leaf l
          JOIN portal_region r ON r.id = l.region_id
         CROSS JOIN LATERAL unnest(string_to_array(btrim(r.path, '/'), '/')::bigint[])
               AS ancestor(id)
         GROUP BY ancestor.id, l.amount_kind, l.currency, l.year""",
    region_cell_part("either_"),
)

REBUILD_FUNCTION = """
CREATE OR REPLACE FUNCTION projects_investment_cells_rebuild() RETURNS integer
LANGUAGE sql AS $fn$
    SELECT projects_company_cells_rebuild() + projects_region_cells_rebuild()
$fn$;
"""

# A rate change re-converts many projects; a moved region re-parents every project under it.
REBUILD_TRIGGER_FUNCTIONS = """
CREATE OR REPLACE FUNCTION projects_investment_cells_on_rate_write() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM projects_investment_cells_rebuild();
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION projects_investment_cells_on_region_move() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE o.path IS DISTINCT FROM n.path) THEN
        PERFORM projects_region_cells_rebuild();
    END IF;
    RETURN NULL;
END
$fn$;
"""

TRIGGERS = """
CREATE TRIGGER projects_investment_cells_insert AFTER INSERT ON projects_investmentproject
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_investment_cells_on_write();
CREATE TRIGGER projects_investment_cells_update AFTER UPDATE ON projects_investmentproject
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_investment_cells_on_write();
CREATE TRIGGER projects_investment_cells_delete AFTER DELETE ON projects_investmentproject
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_investment_cells_on_write();
CREATE TRIGGER projects_investment_cells_rates
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON portal_exchangerate
    FOR EACH STATEMENT EXECUTE FUNCTION projects_investment_cells_on_rate_write();
CREATE TRIGGER projects_investment_cells_region_move AFTER UPDATE ON portal_region
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_investment_cells_on_region_move();
"""

# What a full metric recompute runs first (returns the number of corrected cells).
REBUILD_STATEMENT = "SELECT projects_investment_cells_rebuild()"

# The triggers a bulk loader suspends (and then calls projects_investment_cells_rebuild()).
PROJECT_TRIGGER_NAMES = (
    "projects_investment_cells_insert",
    "projects_investment_cells_update",
    "projects_investment_cells_delete",
)

# Each cell records the newest audit-log id and the time of the write that last changed it:
# the lineage of the investment figures read straight from the cells (FIGURES_VIEW), and the
# queue says which cells a write created. Migrations 0004 and 0005 predate those columns and
# install the functions without them (`lineage=False`).
_LINEAGE = {
    "{lineage_columns}": ", input_version, changed_at",
    # One InitPlan per statement. The audit trigger is a row trigger, so the write's own
    # Change rows exist when these statement triggers run.
    "{lineage_values}": ", (SELECT coalesce(max(id), 0) FROM portal_change), now()",
    # A queued cell the write created (every cell a rebuild corrects counts as created): only
    # those can bring a figure that has no stored row yet.
    "{queue_new_cell}": ", new_cell",
    "{new_cell_of_upserted}": ", inserted",
    "{new_cell_of_rebuilt}": ", true",
    "{lineage_assign}": (
        ", input_version = EXCLUDED.input_version, changed_at = EXCLUDED.changed_at"
    ),
}


def _with_lineage(template: str, lineage: bool) -> str:
    for placeholder, text in _LINEAGE.items():
        template = template.replace(placeholder, text if lineage else "")
    return template


def cell_functions(*, lineage: bool = True) -> tuple[str, str, str]:
    """The apply function and the two rebuild functions (`lineage`: set the cells' lineage)."""
    return tuple(
        _with_lineage(template, lineage)
        for template in (_APPLY_TEMPLATE, _COMPANY_REBUILD_TEMPLATE, _REGION_REBUILD_TEMPLATE)
    )


APPLY_FUNCTION, COMPANY_REBUILD_FUNCTION, REGION_REBUILD_FUNCTION = cell_functions()


def install_sql(*, lineage: bool = True) -> str:
    """Everything the cells need in the database (migration 0004 installs it without lineage)."""
    return "\n".join(
        [
            DAY_RATES_FUNCTION,
            DELTA_TYPE,
            *cell_functions(lineage=lineage)[:1],
            WRITE_TRIGGER_FUNCTION,
            *cell_functions(lineage=lineage)[1:],
            REBUILD_FUNCTION,
            REBUILD_TRIGGER_FUNCTIONS,
            TRIGGERS,
            # Queues every cell: the next recompute compares each figure with its total once.
            "SELECT projects_investment_cells_rebuild();",
        ]
    )


UNINSTALL_SQL = """
DROP TRIGGER IF EXISTS projects_investment_cells_insert ON projects_investmentproject;
DROP TRIGGER IF EXISTS projects_investment_cells_update ON projects_investmentproject;
DROP TRIGGER IF EXISTS projects_investment_cells_delete ON projects_investmentproject;
DROP TRIGGER IF EXISTS projects_investment_cells_rates ON portal_exchangerate;
DROP TRIGGER IF EXISTS projects_investment_cells_region_move ON portal_region;
DROP FUNCTION IF EXISTS projects_investment_cells_on_region_move();
DROP FUNCTION IF EXISTS projects_investment_cells_on_rate_write();
DROP FUNCTION IF EXISTS projects_investment_cells_rebuild();
DROP FUNCTION IF EXISTS projects_region_cells_rebuild();
DROP FUNCTION IF EXISTS projects_company_cells_rebuild();
DROP FUNCTION IF EXISTS projects_investment_cells_on_write();
DROP FUNCTION IF EXISTS projects_investment_cells_apply(projects_investment_delta[]);
DROP TYPE IF EXISTS projects_investment_delta;
DROP FUNCTION IF EXISTS projects_day_rates(date, date);
"""


# The investment figures are served straight from the cells: `portal_figure` is portal_metric
# with the value and lineage of each company or region investment figure read live from its
# cells. The stored row gives the figure its id, its place in every index and its existence
# (the metric families add and remove figures as cells appear and vanish, and record history);
# only its value would otherwise be rewritten on every project edit, tens of thousands of rows
# for a 1% change. Everything else in portal_metric is served as stored. Each expression is a
# scalar subquery under a CASE, evaluated only for the columns a query reads (a count or an
# id list never touches the cells). Must be recreated by any migration that alters a column it
# reads.
_LIVE_FIGURES = (
    # (subject type, name, cells and their condition, value, inputs, input version, changed at)
    (
        "company",
        "investment_total",
        "projects_companyinvestmentcell c WHERE c.company_id = m.subject_id"
        " AND c.amount_kind = m.dimensions ->> 'amount_kind'"
        " AND c.currency = m.dimensions ->> 'currency'",
        "c.amount",
        "jsonb_build_object('row_count', c.projects)",
        "c.input_version",
        "c.changed_at",
    ),
    *(
        (
            "company",
            f"investment_total_{currency}",
            "projects_companyinvestmentcell c WHERE c.company_id = m.subject_id"
            " AND c.amount_kind = m.dimensions ->> 'amount_kind'"
            f" HAVING sum(c.converted_{currency}) > 0",
            f"round(sum(c.amount_{currency}), 2)",
            f"jsonb_build_object('row_count', sum(c.projects), 'unconverted_count',"
            f" sum(c.projects - c.converted_{currency}))",
            "max(c.input_version)",
            "max(c.changed_at)",
        )
        for currency in ("cny", "usd")
    ),
    (
        "region",
        "investment_total",
        "projects_regioninvestmentcell c WHERE c.region_id = m.subject_id"
        " AND c.amount_kind = m.dimensions ->> 'amount_kind'"
        " AND c.year = (m.dimensions ->> 'year')::int"
        " AND c.currency = m.dimensions ->> 'currency'",
        "c.amount",
        "jsonb_build_object('row_count', c.projects)",
        "c.input_version",
        "c.changed_at",
    ),
    (
        "region",
        "investment_total_cny",
        "projects_regioninvestmentcell c WHERE c.region_id = m.subject_id"
        " AND c.amount_kind = m.dimensions ->> 'amount_kind'"
        " AND c.year = (m.dimensions ->> 'year')::int HAVING sum(c.converted_cny) > 0",
        "round(sum(c.amount_cny), 2)",
        "jsonb_build_object('row_count', sum(c.projects), 'unconverted_count',"
        " sum(c.projects - c.converted_cny))",
        "max(c.input_version)",
        "max(c.changed_at)",
    ),
)

# (subject type, name) of every figure served live, for the metric families.
LIVE_FIGURE_NAMES = tuple((subject_type, name) for subject_type, name, *_ in _LIVE_FIGURES)


_LIVE_BRANCH = """
             WHEN m.subject_type = '{subject_type}' AND m.name = '{name}'
             THEN (SELECT {expression} FROM {cells})"""


def _live(column: int, stored: str) -> str:
    """One column of the view: the figure's live expression `column`, else the stored one."""
    branches = "".join(
        _LIVE_BRANCH.replace("{subject_type}", figure[0])
        .replace("{name}", figure[1])
        .replace("{expression}", figure[column])
        .replace("{cells}", figure[2])
        for figure in _LIVE_FIGURES
    )
    return compose("coalesce(CASE", branches, "\n             END, m.", stored, ")")


FIGURES_VIEW = compose(
    """
CREATE OR REPLACE VIEW portal_figure AS
SELECT m.id, m.subject_type, m.subject_id, m.name, m.dimensions, m.dimensions_key,
       round(""",
    _live(3, "value"),
    """, 4)::numeric(28, 4) AS value,
       m.unit,
       """,
    _live(5, "input_version"),
    """ AS input_version,
       """,
    _live(6, "computed_at"),
    """ AS computed_at,
       """,
    _live(4, "inputs"),
    """ AS inputs
  FROM portal_metric m;
""",
)

DROP_FIGURES_VIEW = "DROP VIEW IF EXISTS portal_figure;"
