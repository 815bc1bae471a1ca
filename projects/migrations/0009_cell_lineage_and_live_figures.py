"""Investment figures are served live from the cells (the `portal_figure` view).

Each cell records the lineage of its last change (newest audit-log id, time) and the queue
says which cells a write created; the trigger and rebuild functions are reinstalled to set
them, and existing cells take the current data version. The view then reads each investment figure's value and lineage from its cells, so a
project edit no longer makes the metric families rewrite those figures.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

from projects.investment_cells import DROP_FIGURES_VIEW, FIGURES_VIEW, cell_functions

STAMP_EXISTING_CELLS = """
UPDATE projects_companyinvestmentcell
   SET input_version = (SELECT coalesce(max(id), 0) FROM portal_change);
UPDATE projects_regioninvestmentcell
   SET input_version = (SELECT coalesce(max(id), 0) FROM portal_change);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0008_cell_keys_cover_their_foreign_keys'),
        ('portal', '0008_figure_view_model'),
    ]

    operations = [
        migrations.AddField(
            model_name='companyinvestmentcell',
            name='changed_at',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.AddField(
            model_name='companyinvestmentcell',
            name='input_version',
            field=models.BigIntegerField(db_default=0),
        ),
        migrations.AddField(
            model_name='regioninvestmentcell',
            name='changed_at',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.AddField(
            model_name='regioninvestmentcell',
            name='input_version',
            field=models.BigIntegerField(db_default=0),
        ),
        migrations.AddField(
            model_name="investmentcellchange",
            name="new_cell",
            field=models.BooleanField(db_default=False),
        ),
        migrations.RunSQL(
            "\n".join(cell_functions()), "\n".join(cell_functions(lineage=False))
        ),
        migrations.RunSQL(STAMP_EXISTING_CELLS, migrations.RunSQL.noop),
        migrations.RunSQL(FIGURES_VIEW, DROP_FIGURES_VIEW),
    ]
