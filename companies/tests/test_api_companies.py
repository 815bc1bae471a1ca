"""Companies API: shared resource behaviour plus company-specific filters."""

import datetime

from django.test import Client

from companies.models import Company
from tests.api_mixins import CitedResourceTests, ResourceApiTests
from tests.factories import CompanyFactory, OwnershipPeriodFactory, RegionFactory


class TestCompaniesApi(CitedResourceTests, ResourceApiTests):
    endpoint = "companies"
    model = Company
    orderings = {"name": lambda item: item["name_en"], "created_at": lambda i: i["created_at"]}

    def make(self, **kwargs):
        return CompanyFactory(**kwargs)

    def bulk(self, count):
        region = RegionFactory()
        built = CompanyFactory.build_batch(count, registered_region=region)
        return Company.objects.bulk_create(built)

    def filter_cases(self):
        shanghai = RegionFactory(slug="shanghai")
        pudong = RegionFactory(slug="pudong", parent=shanghai)
        beijing = RegionFactory(slug="beijing")
        in_pudong = CompanyFactory(registered_region=pudong, modalities=["car_t"], kind="company")
        in_beijing = CompanyFactory(
            registered_region=beijing, modalities=["small_molecule"], kind="institution"
        )
        parent = CompanyFactory()
        child = CompanyFactory(parent=parent, headquarters_country="US", name_en="Zymo Cell")
        OwnershipPeriodFactory(company=in_pudong, ownership_type="foreign_invested")
        # Domestic until last year, foreign-invested since: only today's type counts.
        OwnershipPeriodFactory(
            company=in_beijing,
            ownership_type="foreign_invested",
            effective_to=datetime.date.today() - datetime.timedelta(days=365),
        )
        return {
            "region": ("shanghai", in_pudong, in_beijing),
            "modality": ("cell_therapy", in_pudong, in_beijing),
            "ownership": ("foreign_invested", in_pudong, in_beijing),
            "kind": ("institution", in_beijing, in_pudong),
            "parent": (parent.slug, child, in_pudong),
            "country": ("US", child, in_pudong),
            "q": ("zymo", child, in_pudong),
        }

    def test_unknown_region_is_a_400_naming_the_filter(self, client):
        from tests.api_mixins import assert_error

        assert_error(client.get(self.list_url(), {"region": "atlantis"}), 400, "region")

    def test_ownership_today_and_briefs_are_rendered(self, client):
        region = RegionFactory(slug="xuhui", name_en="Xuhui")
        company = CompanyFactory(registered_region=region)
        OwnershipPeriodFactory(company=company, ownership_type="joint_venture")
        item = client.get(self.detail_url(company)).json()
        assert item["ownership_type"] == "joint_venture"
        assert item["registered_region"] == {
            "id": region.pk,
            "slug": "xuhui",
            "name": "Xuhui",
            "url": "http://testserver/api/v1/regions/xuhui/",
        }
        assert item["parent"] is None

    def test_unknown_website_is_null_as_the_schema_says(self, client):
        # Stored as "" (blank URLField); "" is not a `format: uri` value, null is declared.
        unknown = CompanyFactory(website="")
        known = CompanyFactory(website="https://example.com/")
        for company, expected in ((unknown, None), (known, "https://example.com/")):
            assert client.get(self.detail_url(company)).json()["website"] == expected
        listed = {i["slug"]: i["website"] for i in client.get(self.list_url()).json()["results"]}
        assert listed[unknown.slug] is None
        assert listed[known.slug] == "https://example.com/"
        schema = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
        website = schema.json()["components"]["schemas"]["Company"]["properties"]["website"]
        assert website["format"] == "uri" and website["nullable"] is True
