"""SQL of the metrics core: the upsert wrapper every family runs through, and dirty resolution.

Only SQL *code* is composed here (a family's SELECT, generated CTE names); every value is a
query parameter.
"""

# The family SELECT becomes the `computed` CTE. One statement then: upserts every computed
# row (guarded by input_version so a stale run never overwrites a newer one), deletes the
# family's rows for in-scope subjects that the SELECT no longer returns (same guard), and
# appends a snapshot for every row whose value changed or disappeared. Rows are inserted in
# key order so concurrent runs lock rows in the same order.
UPSERT_FAMILY = """
WITH version AS (
    SELECT coalesce(%(input_version)s::bigint, (SELECT max(id) FROM portal_change), 0) AS v
),
computed AS (
    SELECT %(subject_type)s::varchar AS subject_type, c.subject_id::bigint AS subject_id,
           c.name::varchar AS name, c.dimensions::jsonb AS dimensions,
           c.dimensions::jsonb::text AS dimensions_key, c.value::numeric AS value,
           c.unit::varchar AS unit, c.inputs::jsonb AS inputs
      FROM ({family_sql}) AS c
),
existing AS (
    SELECT m.id, m.subject_id, m.name, m.dimensions_key, m.value
      FROM portal_metric m
     WHERE m.subject_type = %(subject_type)s
       AND m.name = ANY(%(names)s)
       AND (%(subject_ids)s::bigint[] IS NULL OR m.subject_id = ANY(%(subject_ids)s::bigint[]))
),
upserted AS (
    INSERT INTO portal_metric AS m
        (subject_type, subject_id, name, dimensions, value, unit, inputs, input_version,
         computed_at)
    SELECT c.subject_type, c.subject_id, c.name, c.dimensions, round(c.value, 4), c.unit,
           c.inputs, version.v, now()
      FROM computed c CROSS JOIN version
     ORDER BY c.subject_id, c.name, c.dimensions_key
    ON CONFLICT (subject_type, subject_id, name, dimensions_key) DO UPDATE
       SET value = EXCLUDED.value, unit = EXCLUDED.unit, inputs = EXCLUDED.inputs,
           input_version = EXCLUDED.input_version, computed_at = EXCLUDED.computed_at
     WHERE m.input_version <= EXCLUDED.input_version
    RETURNING m.id, m.subject_type, m.subject_id, m.name, m.dimensions_key, m.value,
              m.input_version, m.computed_at
),
deleted AS (
    DELETE FROM portal_metric m
     USING existing e, version
     WHERE m.id = e.id
       AND m.input_version <= version.v
       AND NOT EXISTS (
           SELECT 1 FROM computed c
            WHERE coalesce(c.subject_id, 0) = coalesce(e.subject_id, 0)
              AND c.name = e.name AND c.dimensions_key = e.dimensions_key
       )
    RETURNING m.subject_type, m.subject_id, m.name, m.dimensions_key
),
snapshots AS (
    INSERT INTO portal_metricsnapshot
        (subject_type, subject_id, name, dimensions_key, value, input_version, recorded_at)
    SELECT u.subject_type, u.subject_id, u.name, u.dimensions_key, u.value, u.input_version,
           u.computed_at
      FROM upserted u LEFT JOIN existing e ON e.id = u.id
     WHERE e.id IS NULL OR e.value IS DISTINCT FROM u.value
    UNION ALL
    SELECT d.subject_type, d.subject_id, d.name, d.dimensions_key, NULL, version.v, now()
      FROM deleted d CROSS JOIN version
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM deleted), (SELECT count(*) FROM snapshots),
       (SELECT v FROM version)
"""

# A Python-computed family feeds its rows in as one jsonb array parameter.
PYTHON_ROWS = """
SELECT r.subject_id, r.name, r.dimensions, r.value, r.unit, r.inputs
  FROM jsonb_to_recordset(%(rows)s::jsonb)
       AS r(subject_id bigint, name text, dimensions jsonb, value numeric, unit text,
            inputs jsonb)
"""

# Serialises runs of one family (no deadlocks between a full and an incremental run); the
# input_version guard keeps correctness either way.
FAMILY_LOCK = "SELECT pg_advisory_xact_lock(hashtext('portal.metrics'), hashtext(%s))"

# Dirty resolution. `{changes}` selects (id, table_name, old_data, new_data) from
# portal_change; `{mappings}` is the UNION ALL of the apps' change mappings, each over its
# own `rows_<n>` CTE; `{expansions}` the UNION ALL of the apps' expansions over `dirty`.
RESOLVE_SUBJECTS = """
WITH changes AS ({changes}),
changed_rows AS (
    SELECT ch.id AS change_id, ch.table_name, image.data
      FROM changes ch
     CROSS JOIN LATERAL (VALUES (ch.old_data), (ch.new_data)) AS image(data)
     WHERE image.data IS NOT NULL
){row_ctes},
direct AS (
    {mappings}
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
    SELECT 'portal', NULL::bigint, max(id) FROM changes HAVING count(*) > 0
),
subjects AS (
    SELECT subject_type, subject_id, max(change_id) AS change_id
      FROM expanded GROUP BY subject_type, subject_id
)
SELECT s.subject_type, s.subject_id, s.change_id
  FROM subjects s
 WHERE NOT %(only_stale)s
    OR s.change_id > coalesce((
           SELECT min(m.input_version) FROM portal_metric m
            WHERE m.subject_type = s.subject_type
              AND (m.subject_id = s.subject_id
                   OR (s.subject_id IS NULL AND m.subject_id IS NULL))
       ), 0)
"""

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
       jsonb_build_object('tables', jsonb_build_array('portal_change'),
                          'aggregate', 'max(id)') AS inputs
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
