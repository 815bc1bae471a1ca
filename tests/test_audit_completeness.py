"""Every write path leaves a Change row naming its actor.

Covered elsewhere: admin add/change/delete and inline citations, and the confirmed admin
import (portal/tests/test_admin_curation.py, test_admin_import_and_queries.py); entity
services (portal/tests/test_services_audit.py). Here: the trigger on every audited table, the
API's POST/PATCH/DELETE on every writable resource, and the management commands that write
curated data.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from portal.audit import audited_tables
from portal.models import Change
from portal.services import api_token_issue
from tests import factories

pytestmark = pytest.mark.django_db

# Writable API resources: (name, factory, field a PATCH changes).
WRITABLE = [
    ("companies", factories.CompanyFactory, "name_en"),
    ("facilities", factories.FacilityFactory, "name_en"),
    ("projects", factories.InvestmentProjectFactory, "title"),
    ("policies", factories.PolicyFactory, "title_en"),
]


def test_every_audited_table_has_the_audit_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'portal_audit' AND NOT t.tgisinternal"
        )
        triggered = {row[0] for row in cursor.fetchall()}
    missing = sorted(set(audited_tables()) - triggered)
    assert not missing, f"curated tables without the audit trigger: {missing}"


def test_every_writable_api_resource_is_declared_here():
    from portal.api.resources import REGISTRY

    writable = {name for name, r in REGISTRY.items() if r.writes and r.writes.update}
    assert writable <= {name for name, _, _ in WRITABLE}, writable


@pytest.fixture
def api_client():
    user = factories.StaffUserFactory(username="api-writer")
    _, raw = api_token_issue(user=user, name="audit")
    return user, Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _changes_since(last_id: int, table: str | None = None):
    changes = Change.objects.filter(id__gt=last_id)
    return changes.filter(table_name=table) if table else changes


@pytest.mark.parametrize(("resource", "factory_class", "field"), WRITABLE)
def test_api_patch_and_delete_are_audited_with_the_token_user(
    api_client, resource, factory_class, field
):
    user, client = api_client
    instance = factory_class()
    table = instance._meta.db_table
    lookup = getattr(instance, "slug", None) or instance.pk
    url = f"/api/v1/{resource}/{lookup}/"
    before = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0

    patched = client.patch(
        url,
        data={field: "Audited by the API"},
        content_type="application/json",
        headers={"If-Match": f'"{instance.version}"'},
    )
    assert patched.status_code == 200, patched.content
    deleted = client.delete(url, headers={"If-Match": f'"{instance.version + 1}"'})
    assert deleted.status_code == 204, deleted.content

    rows = list(_changes_since(before, table).order_by("id"))
    assert [row.action for row in rows] == ["updated", "deleted"]
    assert {(row.actor_id, row.actor_label) for row in rows} == {(user.pk, user.username)}
    # Whatever else the delete removed (citations) is attributed to the same user.
    assert {row.actor_id for row in _changes_since(before)} == {user.pk}


def test_api_create_is_audited_with_the_token_user(api_client):
    user, client = api_client
    before = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = client.post(
        "/api/v1/companies/",
        data={"slug": "audited-co", "name_en": "Audited Co"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    created = _changes_since(before, "companies_company").get()
    assert created.action == "created"
    assert (created.actor_id, created.actor_label) == (user.pk, user.username)


def test_load_curated_data_attributes_every_row_to_the_curation_bot():
    before = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0

    call_command("load_curated_data", verbosity=0)

    rows = _changes_since(before)
    assert rows.exists()
    assert set(rows.values_list("actor_label", flat=True)) == {"curation-bot"}
    assert not rows.filter(actor_id__isnull=True).exists()
