"""The change feed's `slug` is always a string (or null), as its schema says (a fuzzer finding)."""

import pytest

from portal.services import api_token_issue
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_resources_keyed_by_id_report_their_key_as_a_string(client):
    provision = factories.ProvisionFactory()
    _token, raw = api_token_issue(user=factories.UserFactory(), name="feed")
    response = client.get("/api/v1/changes/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    body = response.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    provision_rows = [row for row in rows if row["resource"] == "provisions"]
    assert provision_rows
    assert all(row["slug"] == str(provision.pk) for row in provision_rows)
    assert all(isinstance(row["slug"], str | None) for row in rows)
