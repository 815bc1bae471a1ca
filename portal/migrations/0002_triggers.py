from django.db import migrations

from portal.audit import AUDIT_FUNCTION_SQL, REGION_PATH_SQL


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm", migrations.RunSQL.noop),
        migrations.RunSQL(AUDIT_FUNCTION_SQL, "DROP FUNCTION IF EXISTS portal_audit_row CASCADE"),
        migrations.RunSQL(
            REGION_PATH_SQL,
            "DROP FUNCTION IF EXISTS portal_region_set_path CASCADE;"
            "DROP FUNCTION IF EXISTS portal_region_move_descendants CASCADE;",
        ),
    ]
