"""Shared-core API resources: regions, sources, authorities, reported figures, metrics."""

import datetime
from decimal import Decimal

from portal.models import Authority, Metric, Region, ReportedFigure, Source
from tests.api_mixins import CitedResourceTests, ResourceApiTests
from tests.factories import (
    AuthorityFactory,
    CompanyFactory,
    RegionFactory,
    ReportedFigureFactory,
    SourceFactory,
)


class TestRegionsApi(CitedResourceTests, ResourceApiTests):
    endpoint = "regions"
    model = Region
    orderings = {"name": lambda i: i["name_en"]}

    def make(self, **kwargs):
        return RegionFactory(**kwargs)

    def bulk(self, count):
        return Region.objects.bulk_create(RegionFactory.build_batch(count))

    def filter_cases(self):
        shanghai = RegionFactory(slug="shanghai", kind="municipality")
        pudong = RegionFactory(slug="pudong", parent=shanghai, name_en="Pudong New Area")
        zone = RegionFactory(slug="zhangjiang", parent=pudong, kind="park")
        beijing = RegionFactory(slug="beijing", kind="municipality")
        return {
            "within": ("pudong", zone, beijing),
            "parent": ("shanghai", pudong, beijing),
            "kind": ("park", zone, beijing),
            "q": ("pudong new", pudong, beijing),
        }


class TestSourcesApi(CitedResourceTests, ResourceApiTests):
    endpoint = "sources"
    model = Source
    lookup = "key"
    orderings = {"title": lambda i: i["title"]}

    def make(self, **kwargs):
        return SourceFactory(**kwargs)

    def bulk(self, count):
        return Source.objects.bulk_create(SourceFactory.build_batch(count))

    def filter_cases(self):
        notice = SourceFactory(
            title="Shanghai notice",
            publisher="STCSM",
            language="zh",
            published_on=datetime.date(2022, 11, 10),
        )
        other = SourceFactory(published_on=datetime.date(2019, 1, 1))
        return {
            "published_after": ("2022-01-01", notice, other),
            "language": ("zh", notice, other),
            "publisher": ("stcsm", notice, other),
            "q": ("notice", notice, other),
        }


class TestAuthoritiesApi(CitedResourceTests, ResourceApiTests):
    endpoint = "authorities"
    model = Authority
    orderings = {"name": lambda i: i["name_en"]}

    def make(self, **kwargs):
        return AuthorityFactory(**kwargs)

    def bulk(self, count):
        return Authority.objects.bulk_create(AuthorityFactory.build_batch(count))

    def filter_cases(self):
        local = AuthorityFactory(
            region=RegionFactory(slug="shanghai"), name_en="Science Commission"
        )
        other = AuthorityFactory()
        return {"region": ("shanghai", local, other), "q": ("science", local, other)}


class TestReportedFiguresApi(CitedResourceTests, ResourceApiTests):
    endpoint = "reported-figures"
    model = ReportedFigure
    orderings = {"as_of": lambda i: i["as_of"]}

    def make(self, **kwargs):
        return ReportedFigureFactory(**kwargs)

    def bulk(self, count):
        region = RegionFactory()
        built = ReportedFigureFactory.build_batch(count, subject=region)
        for index, figure in enumerate(built):
            figure.as_of = datetime.date(2020, 1, 1) + datetime.timedelta(days=index)
        return ReportedFigure.objects.bulk_create(built)

    def filter_cases(self):
        company = CompanyFactory(slug="acme")
        about_company = ReportedFigureFactory(
            subject=company, measure="employees", as_of=datetime.date(2023, 1, 1)
        )
        about_region = ReportedFigureFactory(as_of=datetime.date(2020, 1, 1))
        return {
            "subject_type": ("companies", about_company, about_region),
            "subject": (
                {"subject_type": "companies", "subject": "acme"},
                about_company,
                about_region,
            ),
            "measure": ("employees", about_company, about_region),
            "as_of_after": ("2022-01-01", about_company, about_region),
            "q": ("employees", about_company, about_region),
        }

    def test_subject_is_a_typed_brief(self, client):
        company = CompanyFactory(slug="acme", name_en="Acme")
        figure = ReportedFigureFactory(subject=company, value=Decimal("15.5000"))
        item = client.get(self.detail_url(figure)).json()
        assert item["subject"] == {
            "type": "companies",
            "id": company.pk,
            "slug": "acme",
            "name": "Acme",
            "url": "http://testserver/api/v1/companies/acme/",
        }
        assert item["value"] == "15.5000"


class TestMetricsApi(ResourceApiTests):
    endpoint = "metrics"
    model = Metric
    lookup = "pk"
    cited = False
    orderings = {"name": lambda i: (i["name"], i["subject_type"], i["subject"]["id"])}

    def make(self, **kwargs):
        region = kwargs.pop("region", None) or RegionFactory()
        defaults = {
            "subject_type": "region",
            "subject_id": region.pk,
            "name": f"companies-{region.pk}",
            "value": Decimal("3"),
            "unit": "companies",
            "inputs": {"tables": ["companies_company"], "row_count": 3},
        }
        return Metric.objects.create(**{**defaults, **kwargs})

    def bulk(self, count):
        region = RegionFactory()
        return Metric.objects.bulk_create(
            Metric(subject_type="region", subject_id=region.pk, name=f"m{i}", value=i, unit="n")
            for i in range(Metric.objects.count(), Metric.objects.count() + count)
        )

    def filter_cases(self):
        company = CompanyFactory(slug="acme")
        about_company = self.make(subject_type="company", subject_id=company.pk, name="facilities")
        about_region = self.make()
        return {
            "subject_type": ("company", about_company, about_region),
            "subject": (
                {"subject_type": "company", "subject": "acme"},
                about_company,
                about_region,
            ),
            "name": ("facilities", about_company, about_region),
        }

    def test_list_etag_moves_when_a_recompute_changes_a_figure(self, client):
        from portal.metrics import services

        region = RegionFactory(slug="pudong", name_en="Pudong")
        CompanyFactory(slug="first", registered_region=region, kind="company")
        services.recompute_all()
        CompanyFactory(slug="second", registered_region=region, kind="company")
        url = self.list_url()
        first = client.get(url, {"name": "companies", "subject_type": "region"})
        assert [item["value"] for item in first.json()["results"]] == ["1.0000"]
        # The recompute writes no audited row, yet the figure changed: no 304 for the old ETag.
        services.recompute_all()
        again = client.get(
            url, {"name": "companies", "subject_type": "region"}, HTTP_IF_NONE_MATCH=first["ETag"]
        )
        assert again.status_code == 200 and again["ETag"] != first["ETag"]
        values = [item["value"] for item in again.json()["results"]]
        assert values == ["2.0000"]

    def test_lineage_and_subject_are_shown(self, client):
        region = RegionFactory(slug="pudong", name_en="Pudong")
        metric = self.make(region=region)
        item = client.get(self.detail_url(metric)).json()
        assert item["inputs"] == {"tables": ["companies_company"], "row_count": 3}
        assert item["subject"]["slug"] == "pudong" and item["subject"]["type"] == "regions"
        assert item["value"] == "3.0000"
