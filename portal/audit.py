"""Database-level audit: every insert, update and delete of a curated table lands in portal_change.

A trigger, not application code, writes the history, so no write path can skip it (admin,
API, services, bulk import, raw SQL). Services name the actor for the current transaction
with `set_actor`; the trigger reads it from a transaction-local setting.
"""

from django.apps import apps
from django.db import connection

from portal.models import CuratedModel

AUDIT_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION portal_audit_row() RETURNS trigger AS $$
DECLARE
    actor text := nullif(current_setting('portal.actor_id', true), '');
    actor_label text := coalesce(current_setting('portal.actor_label', true), '');
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
BEGIN
    -- A save that changes nothing is not history (keeps idempotent loads silent).
    IF TG_OP = 'UPDATE' AND old_row = new_row THEN
        RETURN NULL;
    END IF;
    INSERT INTO portal_change
        (table_name, object_pk, action, actor_id, actor_label, occurred_at,
         transaction_id, old_data, new_data)
    VALUES (
        TG_TABLE_NAME,
        coalesce(new_row ->> 'id', old_row ->> 'id'),
        CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
        actor::bigint,
        actor_label,
        clock_timestamp(),
        txid_current(),
        old_row,
        new_row
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

REGION_PATH_SQL = """
CREATE OR REPLACE FUNCTION portal_region_set_path() RETURNS trigger AS $$
DECLARE
    parent_path text;
    parent_depth integer;
BEGIN
    IF NEW.parent_id IS NULL THEN
        NEW.path := '/' || NEW.id || '/';
        NEW.depth := 0;
        RETURN NEW;
    END IF;
    SELECT path, depth INTO parent_path, parent_depth FROM portal_region WHERE id = NEW.parent_id;
    IF parent_path LIKE '%/' || NEW.id || '/%' THEN
        RAISE EXCEPTION 'region % cannot be its own ancestor', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'region_not_own_ancestor';
    END IF;
    NEW.path := parent_path || NEW.id || '/';
    NEW.depth := parent_depth + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION portal_region_move_descendants() RETURNS trigger AS $$
BEGIN
    IF NEW.path IS DISTINCT FROM OLD.path THEN
        UPDATE portal_region
           SET path = NEW.path || substr(path, length(OLD.path) + 1),
               depth = depth + (NEW.depth - OLD.depth)
         WHERE path LIKE OLD.path || '%' AND id <> NEW.id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS portal_region_set_path ON portal_region;
CREATE TRIGGER portal_region_set_path BEFORE INSERT OR UPDATE OF parent_id ON portal_region
    FOR EACH ROW EXECUTE FUNCTION portal_region_set_path();
DROP TRIGGER IF EXISTS portal_region_move_descendants ON portal_region;
CREATE TRIGGER portal_region_move_descendants AFTER UPDATE OF parent_id ON portal_region
    FOR EACH ROW EXECUTE FUNCTION portal_region_move_descendants();
"""


def audited_tables() -> list[str]:
    """Tables of every curated model, and the many-to-many tables they own."""
    tables = []
    for model in apps.get_models():
        if issubclass(model, CuratedModel):
            tables.append(model._meta.db_table)
            for field in model._meta.local_many_to_many:
                if field.remote_field.through._meta.auto_created:
                    tables.append(field.remote_field.through._meta.db_table)
    return sorted(set(tables))


def install_audit_triggers(**kwargs) -> None:
    """Attach the audit trigger to every curated table (post_migrate, so new models get it too)."""
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_FUNCTION_SQL)
        for table in audited_tables():
            if table in existing:
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER portal_audit AFTER INSERT OR UPDATE OR DELETE "
                    f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION portal_audit_row()'
                )


def set_actor(user) -> None:
    """Name the acting user for the rest of the current transaction's audit rows."""
    actor_id = str(user.pk) if user is not None and user.pk is not None else ""
    actor_label = user.get_username() if user is not None and user.pk is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('portal.actor_id', %s, true), "
            "set_config('portal.actor_label', %s, true)",
            [actor_id, actor_label],
        )
