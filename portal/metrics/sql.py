"""SQL of the metrics core: the upsert wrapper every family runs through, and dirty resolution.

Only SQL *code* is composed here (a family's SELECT, generated CTE names); every value is a
query parameter.
"""

# The family SELECT becomes the `computed` CTE, materialised once. One statement then writes
# only what changed: rows that are new or whose value, unit or inputs differ are upserted,
# rows of in-scope subjects that the SELECT no longer returns are deleted, and each subject
# whose rows were written or deleted gets one history row listing them. Unchanged rows are
# not rewritten (a full recompute of unchanged data writes nothing but its ledger row), which
# is what keeps it near the bare aggregate.
#
# Guards against a stale run (labelled with an older input version): it writes nothing when
# the family's last full run is newer, nothing for subjects whose own last run is newer, and
# never replaces a row written by a newer run. Rows are written in key order so concurrent
# runs lock in the same order. Keys join on coalesce(subject_id, 0) so the joins can hash.
UPSERT_FAMILY = """
WITH version AS (
    SELECT coalesce(%(input_version)s::bigint, (SELECT max(id) FROM portal_change), 0) AS v
),
allowed AS (
    SELECT coalesce((SELECT c.input_version FROM portal_metriccomputation c
                      WHERE c.family = %(family)s AND c.subject_id IS NULL), 0)
           <= (SELECT v FROM version) AS ok
),
refused AS (
    SELECT c.subject_id FROM portal_metriccomputation c
     WHERE c.family = %(family)s AND c.subject_id IS NOT NULL
       AND c.input_version > (SELECT v FROM version)
),
-- A keyed family consumes its queue of changed cells here (a refused run consumes nothing);
-- in a pending-only run `scope` is all it rewrites.
consumed AS ({pending_sql}),
scope AS MATERIALIZED (
    SELECT subject_id, part, bool_or(new_cell) AS new_cell FROM consumed
     GROUP BY subject_id, part
),
computed AS MATERIALIZED (
    SELECT c.subject_id::bigint AS subject_id, c.name::varchar AS name,
           c.dimensions::jsonb AS dimensions, c.dimensions::jsonb::text AS dimensions_key,
           round(c.value::numeric, 4) AS value, c.unit::varchar AS unit,
           c.inputs::jsonb AS inputs
      FROM ({family_sql}) AS c
),
existing AS (
    SELECT m.id, m.subject_id, m.name, m.dimensions_key, m.value, m.unit, m.inputs,
           m.input_version
      FROM portal_metric m
     WHERE NOT %(pending_only)s AND m.subject_type = %(subject_type)s
       AND m.name = ANY(%(names)s)
       AND (%(subject_ids)s::bigint[] IS NULL OR m.subject_id = ANY(%(subject_ids)s::bigint[]))
),
-- A keyed run does not read its stored rows first: it upserts every figure of the queued
-- slices (the upsert skips unchanged ones) and deletes, by exact key, the figures its SQL
-- names as gone (tombstones: a NULL value; LIMIT 1 keeps each a unique-index probe).
vanished AS (
    SELECT m.id, m.subject_id, m.input_version
      FROM computed gone
     CROSS JOIN LATERAL (
           SELECT * FROM portal_metric m
            WHERE m.subject_type = %(subject_type)s AND m.subject_id = gone.subject_id
              AND m.name = gone.name AND m.dimensions_key = gone.dimensions_key
            LIMIT 1) AS m
     WHERE %(pending_only)s AND gone.value IS NULL AND (SELECT ok FROM allowed)
       AND NOT EXISTS (SELECT 1 FROM refused r WHERE r.subject_id = m.subject_id)
),
-- One full outer join pairs every computed row with its stored row: what is new or differs
-- is written, what is stored but no longer computed is deleted.
diff AS MATERIALIZED (
    SELECT c.subject_id, c.name, c.dimensions, c.dimensions_key, c.value, c.unit, c.inputs,
           e.id AS existing_id, e.input_version AS existing_version
      FROM (SELECT * FROM computed WHERE value IS NOT NULL) AS c
      FULL JOIN existing e
        ON coalesce(e.subject_id, 0) = coalesce(c.subject_id, 0)
       AND e.name = c.name AND e.dimensions_key COLLATE "C" = c.dimensions_key COLLATE "C"
     WHERE (c.name IS NULL OR e.id IS NULL OR e.value <> c.value OR e.unit <> c.unit
            OR e.inputs <> c.inputs)
       AND (SELECT ok FROM allowed)
       AND NOT EXISTS (
           SELECT 1 FROM refused r WHERE r.subject_id = coalesce(c.subject_id, e.subject_id))
),
-- Unchanged rows are skipped here too (a keyed run's diff holds every figure of its slices).
-- portal_metric keeps free space on each page (fillfactor), so an update is HOT: no index
-- entries are written, as none of the indexed columns change.
upserted AS (
    INSERT INTO portal_metric AS m
        (subject_type, subject_id, name, dimensions, value, unit, inputs, input_version,
         computed_at)
    SELECT %(subject_type)s, d.subject_id, d.name, d.dimensions, d.value, d.unit, d.inputs,
           version.v, now()
      FROM diff d CROSS JOIN version
     WHERE d.name IS NOT NULL AND NOT %(live)s
     ORDER BY d.subject_id, d.name, d.dimensions_key
    ON CONFLICT (subject_type, subject_id, name, dimensions_key) DO UPDATE
       SET value = EXCLUDED.value, unit = EXCLUDED.unit, inputs = EXCLUDED.inputs,
           input_version = EXCLUDED.input_version, computed_at = EXCLUDED.computed_at
     WHERE m.input_version <= EXCLUDED.input_version
       AND (m.value, m.unit, m.inputs) IS DISTINCT FROM
           (EXCLUDED.value, EXCLUDED.unit, EXCLUDED.inputs)
    RETURNING m.subject_id, m.name, m.dimensions_key, m.value, m.input_version, m.computed_at
),
-- A pending run of a family served live (`portal_figure` reads the values from the cells)
-- compares nothing with the stored rows, so it skips `diff`: `served` is every figure it
-- computed, under the same guards.
served AS (
    SELECT c.* FROM computed c
     WHERE %(live)s AND c.value IS NOT NULL AND (SELECT ok FROM allowed)
       AND NOT EXISTS (SELECT 1 FROM refused r WHERE r.subject_id = c.subject_id)
),
-- It only adds the figures that are new, which only a subject with a new cell can have; the
-- stored rows of the others are left as they are.
created AS (
    INSERT INTO portal_metric AS m
        (subject_type, subject_id, name, dimensions, value, unit, inputs, input_version,
         computed_at)
    SELECT %(subject_type)s, d.subject_id, d.name, d.dimensions, d.value, d.unit, d.inputs,
           version.v, now()
      FROM served d CROSS JOIN version
     WHERE d.subject_id IN (SELECT subject_id FROM scope WHERE new_cell)
     ORDER BY d.subject_id, d.name, d.dimensions_key
    ON CONFLICT (subject_type, subject_id, name, dimensions_key) DO NOTHING
    RETURNING 1
),
deleted AS (
    DELETE FROM portal_metric m
     USING (SELECT d.existing_id AS id, d.existing_version AS input_version
              FROM diff d WHERE d.name IS NULL AND NOT %(live)s
            UNION ALL
            SELECT v.id, v.input_version FROM vanished v) AS gone,
           version
     WHERE m.id = gone.id AND gone.input_version <= version.v
    RETURNING m.subject_id, m.name, m.dimensions_key
),
-- One history row per subject: the new value of each figure it rewrote or deleted (NULL).
snapshots AS (
    INSERT INTO portal_metricsnapshot
        (subject_type, subject_id, family, figures, input_version, recorded_at)
    SELECT %(subject_type)s, w.subject_id, %(family)s,
           jsonb_object_agg(w.name || ' ' || w.dimensions_key, w.value),
           max(w.input_version), max(w.recorded_at)
      FROM (SELECT u.subject_id, u.name, u.dimensions_key, u.value, u.input_version,
                   u.computed_at AS recorded_at
              FROM upserted u
            UNION ALL
            -- Served live: each figure of the queued cells, whose totals the edits changed.
            SELECT d.subject_id, d.name, d.dimensions_key, d.value, version.v, now()
              FROM served d CROSS JOIN version
            UNION ALL
            SELECT d.subject_id, d.name, d.dimensions_key, NULL, version.v, now()
              FROM deleted d CROSS JOIN version) AS w
     GROUP BY w.subject_id
    RETURNING 1
),
ledger AS (
    INSERT INTO portal_metriccomputation AS l
        (family, subject_type, subject_id, input_version, computed_at)
    SELECT %(family)s, %(subject_type)s, s.subject_id, version.v, now()
      FROM (SELECT NULL::bigint AS subject_id WHERE %(subject_ids)s::bigint[] IS NULL
            UNION ALL
            SELECT unnest(%(subject_ids)s::bigint[])) AS s
     CROSS JOIN version
     WHERE (SELECT ok FROM allowed) AND NOT %(pending_only)s
       AND NOT EXISTS (SELECT 1 FROM refused r WHERE r.subject_id = s.subject_id)
     ORDER BY s.subject_id
    ON CONFLICT (family, subject_id) DO UPDATE
       SET input_version = EXCLUDED.input_version, computed_at = EXCLUDED.computed_at
     WHERE l.input_version <= EXCLUDED.input_version
    RETURNING 1
),
-- A full run supersedes the per-subject ledger rows at or below its version.
pruned AS (
    DELETE FROM portal_metriccomputation c
     WHERE %(subject_ids)s::bigint[] IS NULL AND (SELECT ok FROM allowed)
       AND NOT %(pending_only)s
       AND c.family = %(family)s AND c.subject_id IS NOT NULL
       AND c.input_version <= (SELECT v FROM version)
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed WHERE value IS NOT NULL),
       (SELECT count(*) FROM upserted) + (SELECT count(*) FROM created),
       (SELECT count(*) FROM deleted), (SELECT count(*) FROM snapshots),
       (SELECT v FROM version), (SELECT count(*) FROM ledger), (SELECT count(*) FROM pruned)
"""

# What a family without a queue of changed cells consumes: nothing.
NO_PENDING = (
    "SELECT NULL::bigint AS subject_id, NULL::text AS part, NULL::boolean AS new_cell WHERE false"
)

# A Python-computed family feeds its rows in as one jsonb array parameter.
PYTHON_ROWS = """
SELECT r.subject_id, r.name, r.dimensions, r.value, r.unit, r.inputs
  FROM jsonb_to_recordset(%(rows)s::jsonb)
       AS r(subject_id bigint, name text, dimensions jsonb, value numeric, unit text,
            inputs jsonb)
"""

# Serialises runs of one family (no deadlocks between a full and an incremental run); the
# input_version guard keeps correctness either way.
# Also sets, for this transaction only, work_mem (aggregates over millions of rows must hash
# in memory, not spill to disk in batches) and hash joins for the diff: the planner cannot
# estimate CTE row counts and otherwise sort-merges ~1M wide rows on both sides.
# A keyed family's statement also turns nested loops off (`nested_loops`): it joins its queue
# of changed cells, CTEs whose size the planner cannot know, and a join it nested over them
# would compare every pair (tens of seconds for a 1% edit). Its per-row index probes (the
# LATERAL subqueries) have no other plan and stay.
FAMILY_LOCK = """
SELECT pg_advisory_xact_lock(hashtext('portal.metrics'), hashtext(%(family)s)),
       set_config('work_mem', %(work_mem)s, true),
       set_config('enable_mergejoin', 'off', true),
       set_config('enable_nestloop', %(nested_loops)s, true)
"""

# Dirty resolution. `{final}` is ALL_SUBJECTS (the write path) or STALE_SUBJECTS (the
# reconciler). `{changes}` selects (id, table_name, old_data, new_data) from
# portal_change; `{mappings}` is the UNION ALL of the apps' change mappings, each over its
# own `rows_<n>` CTE and labelled with its table; `{expansions}` the UNION ALL of the apps'
# expansions over `dirty`.
RESOLVE_SUBJECTS = """
WITH changes AS ({changes}),
changed_rows AS (
    SELECT ch.id AS change_id, ch.table_name, image.data
      FROM changes ch
     CROSS JOIN LATERAL (VALUES (ch.old_data), (ch.new_data)) AS image(data)
     WHERE image.data IS NOT NULL
){row_ctes},
direct_rows AS (
    {mappings}
),
-- Each subject once per changed table, with its newest change (what both callers need): many
-- changes of one region's projects expand its ancestors once, not once per change.
direct AS (
    SELECT subject_type, subject_id, max(change_id) AS change_id
      FROM direct_rows GROUP BY subject_type, subject_id, table_name
),
dirty AS (
    SELECT d.subject_type, d.subject_id, d.change_id
      FROM direct d WHERE d.subject_type <> 'region' AND d.subject_id IS NOT NULL
    UNION ALL
    -- A region counts in every ancestor: unnest the materialised path of its current row.
    SELECT 'region', ancestor.id, d.change_id
      FROM direct d
      JOIN portal_region r ON r.id = d.subject_id
     CROSS JOIN LATERAL unnest(string_to_array(btrim(r.path, '/'), '/')::bigint[])
           AS ancestor(id)
     WHERE d.subject_type = 'region'
    UNION ALL
    -- Deleted regions have no current row; the mapping already named their old ancestors.
    SELECT 'region', d.subject_id, d.change_id
      FROM direct d WHERE d.subject_type = 'region' AND d.subject_id IS NOT NULL
),
expanded AS (
    SELECT subject_type, subject_id, change_id FROM dirty{expansions}
    UNION ALL
    SELECT 'portal', NULL::bigint, max(id) FROM changes GROUP BY table_name
){final}"""

# The changes of the last transaction that wrote one object (old and new images included,
# so a facility moved from A to B dirties both).
CHANGES_OF_LAST_WRITE = """
SELECT id, table_name, old_data, new_data FROM portal_change
 WHERE table_name = %(table)s AND object_pk = %(pk)s
   AND transaction_id = (
       SELECT transaction_id FROM portal_change
        WHERE table_name = %(table)s AND object_pk = %(pk)s
        ORDER BY id DESC LIMIT 1)
"""

# Everything audited since a moment: the reconciler's window.
CHANGES_SINCE = """
SELECT id, table_name, old_data, new_data FROM portal_change
 WHERE occurred_at >= %(since)s AND table_name = ANY(%(tables)s)
"""

TABLES_CHANGED_SINCE = """
SELECT DISTINCT table_name FROM portal_change
 WHERE occurred_at >= %(since)s AND table_name = ANY(%(tables)s)
"""

# The regions named by a region row image: itself and every ancestor on its (old) path.
REGION_CHANGE_MAPPING = """
SELECT 'region' AS subject_type, ancestor.id AS subject_id, r.change_id
  FROM {rows} r
 CROSS JOIN LATERAL unnest(string_to_array(btrim(r.data ->> 'path', '/'), '/')::bigint[])
       AS ancestor(id)
"""

# Portal-wide: the data version shown on the home page.
PORTAL_DATA_VERSION = """
SELECT NULL::bigint AS subject_id, 'data_version' AS name, '{}'::jsonb AS dimensions,
       coalesce(max(id), 0)::numeric AS value, 'change' AS unit,
       jsonb_build_object('aggregate', 'max(id)') AS inputs
  FROM portal_change
"""

# Region tree helper for the apps' roll-ups: every region paired with each of its ancestors
# (itself included), restricted to the in-scope ancestors when subject ids are given.
REGION_ANCESTORS_CTE = """
region_ancestors AS (
    SELECT r.id AS region_id, ancestor.id AS ancestor_id
      FROM portal_region r
     CROSS JOIN LATERAL unnest(string_to_array(btrim(r.path, '/'), '/')::bigint[])
           AS ancestor(id)
     WHERE %(subject_ids)s::bigint[] IS NULL OR ancestor.id = ANY(%(subject_ids)s::bigint[])
)"""


def compose(*parts: str) -> str:
    """Join SQL *code* fragments (constants of this project; values are always parameters)."""
    return "".join(parts)


# Every subject the changes touch, with the newest change touching it.
ALL_SUBJECTS = """
SELECT subject_type, subject_id, max(change_id) FROM expanded
 GROUP BY subject_type, subject_id
"""

# Only the subjects some family of which, reading a changed table, last computed them (its
# last full run or its own last run, whichever is newer) before the change.
STALE_SUBJECTS = """,
subjects AS (
    SELECT e.subject_type, e.subject_id, ch.table_name, max(e.change_id) AS change_id
      FROM expanded e JOIN changes ch ON ch.id = e.change_id
     GROUP BY e.subject_type, e.subject_id, ch.table_name
),
dependencies AS (
    SELECT * FROM unnest(%(dependency_families)s::text[], %(dependency_types)s::text[],
                         %(dependency_tables)s::text[]) AS d(family, subject_type, table_name)
)
-- Hash joins throughout: a burst of edits names thousands of subjects, most of a type no
-- non-keyed family reads the changed table for.
SELECT s.subject_type, s.subject_id, max(s.change_id)
  FROM subjects s
  JOIN dependencies d ON d.subject_type = s.subject_type AND d.table_name = s.table_name
  LEFT JOIN portal_metriccomputation whole
    ON whole.family = d.family AND whole.subject_id IS NULL
  LEFT JOIN portal_metriccomputation own
    ON own.family = d.family AND own.subject_id = s.subject_id
 WHERE greatest(coalesce(whole.input_version, 0), coalesce(own.input_version, 0)) < s.change_id
 GROUP BY s.subject_type, s.subject_id
"""
