"""API writes: staff with model permissions, through the entity services, with If-Match."""

import pytest
from django.contrib.auth.models import Permission

from companies.models import Company
from portal.models import Change
from tests.api_mixins import api_client, assert_error
from tests.factories import (
    CompanyFactory,
    FacilityFactory,
    InvestmentProjectFactory,
    PolicyFactory,
    RegionFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def detail(company) -> str:
    return f"/api/v1/companies/{company.slug}/"


@pytest.fixture
def staff():
    user = StaffUserFactory()
    return user, api_client(user)


def test_patch_needs_if_match_and_refuses_a_stale_one(staff):
    _, client = staff
    company = CompanyFactory(name_en="Old")
    assert_error(client.patch(detail(company), {"name_en": "New"}, format="json"), 428)
    etag = client.get(detail(company))["ETag"]
    Company.objects.filter(pk=company.pk).update(version=2)  # someone else saved meanwhile
    response = client.patch(detail(company), {"name_en": "New"}, format="json", HTTP_IF_MATCH=etag)
    assert_error(response, 412)
    assert_error(
        client.patch(detail(company), {"name_en": "New"}, format="json", HTTP_IF_MATCH="garbage"),
        412,
    )
    company.refresh_from_db()
    assert company.name_en == "Old"


def test_patch_goes_through_the_service_and_returns_the_new_etag(staff):
    user, client = staff
    company = CompanyFactory(name_en="Old")
    first = client.get(detail(company))
    response = client.patch(
        detail(company), {"name_en": "New"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert response.status_code == 200, response.content
    assert response.json()["name_en"] == "New" and response.json()["version"] == 2
    assert response["ETag"] != first["ETag"] and response["ETag"].startswith('"2-')
    change = Change.objects.filter(table_name="companies_company").latest("id")
    assert (change.action, change.actor_id) == ("updated", user.pk)  # audited with the actor
    assert int(response["X-Data-Version"]) > int(first["X-Data-Version"])
    again = client.get(detail(company), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_invalid_patch_is_400_with_fields_and_writes_nothing(staff):
    _, client = staff
    company = CompanyFactory()
    etag = client.get(detail(company))["ETag"]
    bad = {"registered_region": "atlantis", "headquarters_country": "china", "name_en": "x\x00"}
    error = assert_error(client.patch(detail(company), bad, format="json", HTTP_IF_MATCH=etag), 400)
    assert {"registered_region", "name_en"} <= set(error["fields"])
    # Model validation in the service (country code constraint) is a 400 as well.
    error = assert_error(
        client.patch(
            detail(company), {"headquarters_country": "cn"}, format="json", HTTP_IF_MATCH=etag
        ),
        400,
    )
    company.refresh_from_db()
    assert company.version == 1


def test_writes_need_staff_with_the_model_permission():
    company = CompanyFactory()
    investor = api_client(UserFactory())
    assert_error(investor.patch(detail(company), {}, format="json", HTTP_IF_MATCH='"1"'), 403)
    clerk = UserFactory(is_staff=True)
    clerk_client = api_client(clerk)
    response = clerk_client.patch(
        detail(company), {"name_en": "Y"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_error(response, 403)
    clerk.user_permissions.add(Permission.objects.get(codename="change_company"))
    response = clerk_client.patch(
        detail(company), {"name_en": "Y"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    assert_error(clerk_client.delete(detail(company), HTTP_IF_MATCH='"2"'), 403)


def test_create_and_delete_with_conflicts(staff):
    _, client = staff
    region = RegionFactory(slug="pudong")
    payload = {"slug": "new-co", "name_en": "New Co", "registered_region": "pudong"}
    created = client.post("/api/v1/companies/", payload, format="json")
    assert created.status_code == 201, created.content
    assert created["Location"].endswith("/api/v1/companies/new-co/")
    assert created.json()["registered_region"]["id"] == region.pk
    assert_error(client.post("/api/v1/companies/", payload, format="json"), 400, "slug")
    company = Company.objects.get(slug="new-co")
    FacilityFactory(company=company)  # PROTECT: the company cannot go while it has facilities
    assert_error(client.delete(detail(company), HTTP_IF_MATCH='"1"'), 409)
    assert_error(client.delete(detail(company)), 428)
    company.facilities.all().delete()
    assert client.delete(detail(company), HTTP_IF_MATCH='"1"').status_code == 204
    assert not Company.objects.filter(slug="new-co").exists()


@pytest.mark.parametrize(
    ("endpoint", "make", "field", "value"),
    [
        ("facilities", FacilityFactory, "status", "operational"),
        ("projects", InvestmentProjectFactory, "title", "Renamed"),
        ("policies", PolicyFactory, "summary", "A summary."),
    ],
)
def test_other_writable_resources_patch_through_services(staff, endpoint, make, field, value):
    _, client = staff
    instance = make()
    url = f"/api/v1/{endpoint}/{instance.slug}/"
    etag = client.get(url)["ETag"]
    response = client.patch(url, {field: value}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()[field] == value and response.json()["version"] == 2
