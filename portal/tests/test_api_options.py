"""OPTIONS on API endpoints answers 405 in the error shape, never a 500 (a fuzzer finding)."""

import pytest

from portal.services import api_token_issue
from tests import factories


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/companies/", "/api/v1/facilities/", "/api/v1/subsidy-estimates/"]
)
def test_options_is_method_not_allowed(client, path):
    _token, raw = api_token_issue(user=factories.UserFactory(), name="options")
    response = client.options(path, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 405
    assert response.json()["error"]["status"] == 405
