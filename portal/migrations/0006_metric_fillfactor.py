"""Leave free space on each portal_metric page so a recompute's in-place updates are HOT.

A changed figure is updated by id; with room on its page PostgreSQL writes the new version
there and no index entry (none of the indexed columns change), which is most of the cost of
rewriting thousands of figures. Pages written before this keep their layout until rewritten
(`VACUUM FULL portal_metric` applies it at once, in a maintenance window).
"""

from django.db import migrations

FILLFACTOR = 70


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_metric_computation")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE portal_metric SET (fillfactor = {FILLFACTOR})",
            "ALTER TABLE portal_metric RESET (fillfactor)",
        )
    ]
