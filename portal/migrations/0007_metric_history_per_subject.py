"""Metric history becomes one row per subject per family run (its rewritten figures in jsonb)
instead of one row per figure: existing rows are folded per (subject, run) on the way."""

from django.db import migrations, models

# Rows of one subject recorded by one statement share recorded_at and input_version. Rows
# written before this migration do not say which family wrote them: family stays ''.
FOLD_ROWS = """
INSERT INTO portal_metricsnapshot
    (subject_type, subject_id, name, dimensions_key, value, family, figures, input_version,
     recorded_at)
SELECT subject_type, subject_id, '', '', NULL, '',
       jsonb_object_agg(name || ' ' || dimensions_key, value), input_version, recorded_at
  FROM portal_metricsnapshot
 WHERE name <> ''
 GROUP BY subject_type, subject_id, input_version, recorded_at;
DELETE FROM portal_metricsnapshot WHERE name <> '';
"""


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_metric_fillfactor")]

    operations = [
        migrations.AddField(
            model_name="metricsnapshot",
            name="family",
            field=models.CharField(default="", max_length=80),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="metricsnapshot",
            name="figures",
            field=models.JSONField(default=dict),
        ),
        # Irreversible: per-figure rows cannot be told apart again once folded.
        migrations.RunSQL(FOLD_ROWS, elidable=False),
        migrations.RemoveIndex(model_name="metricsnapshot", name="metric_snapshot_series_idx"),
        migrations.RemoveField(model_name="metricsnapshot", name="name"),
        migrations.RemoveField(model_name="metricsnapshot", name="dimensions_key"),
        migrations.RemoveField(model_name="metricsnapshot", name="value"),
        migrations.AddIndex(
            model_name="metricsnapshot",
            index=models.Index(
                fields=["subject_type", "subject_id", "recorded_at"],
                name="metric_snapshot_subject_idx",
            ),
        ),
    ]
