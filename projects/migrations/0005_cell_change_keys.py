"""Queue each changed investment cell by its full key (amount kind, currency and, for regions,
year), so the metric families probe the stored figures by exact key.

Reinstalls the functions that write the queue, and rewrites entries queued in the old form
(a company's amount kind; a region's amount kind and year) as one entry per currency that the
cells or the stored figures of that slice name, so no pending change is lost.
"""

from django.db import migrations

from projects.investment_cells import cell_functions

CONVERT_QUEUE = """
WITH old AS (
    DELETE FROM projects_investmentcellchange
     WHERE (grain = 'company' AND part NOT LIKE '%|%')
        OR (grain = 'region' AND part NOT LIKE '%|%|%')
    RETURNING grain, subject_id, part
),
currencies AS (
    SELECT o.grain, o.subject_id, o.part, c.currency
      FROM old o JOIN projects_companyinvestmentcell c
        ON o.grain = 'company' AND c.company_id = o.subject_id AND c.amount_kind = o.part
    UNION
    SELECT o.grain, o.subject_id, o.part, c.currency
      FROM old o JOIN projects_regioninvestmentcell c
        ON o.grain = 'region' AND c.region_id = o.subject_id
       AND c.amount_kind || '|' || c.year = o.part
    UNION
    SELECT o.grain, o.subject_id, o.part, m.dimensions ->> 'currency'
      FROM old o JOIN portal_metric m
        ON m.subject_type = o.grain AND m.subject_id = o.subject_id
       AND m.name = 'investment_total'
       AND CASE o.grain
               WHEN 'company' THEN m.dimensions ->> 'amount_kind'
               ELSE (m.dimensions ->> 'amount_kind') || '|' || (m.dimensions ->> 'year')
           END = o.part
)
INSERT INTO projects_investmentcellchange (grain, subject_id, part)
SELECT grain, subject_id, part || '|' || currency FROM currencies
"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0004_investment_cells"),
        ("portal", "0006_metric_fillfactor"),
    ]

    operations = [
        migrations.RunSQL(
            # Without the lineage columns, which 0009 adds.
            "\n".join(cell_functions(lineage=False)),
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(CONVERT_QUEUE, migrations.RunSQL.noop),
    ]
