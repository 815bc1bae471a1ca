"""Company, facility and region list pages: facets with counts, sub-regions, CSV, paging."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.tests.page_data import add_bulk, build_world, facet_counts
from portal.pages import PAGE_SIZE
from tests.factories import FacilityFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_status_facet_counts_ignore_their_own_selection(world, client):
    FacilityFactory(slug="planned-1", region=world.pudong, status="planned")
    response = client.get(reverse("companies:facility-list"), {"status": "operational"})
    assert [f.slug for f in response.context["page"].items] == ["juventas-zhangjiang-plant"]
    assert facet_counts(response, "status") == {"operational": 1, "planned": 1}


def test_region_filter_includes_sub_regions(world, client):
    FacilityFactory(slug="elsewhere", region=RegionFactory(slug="beijing", name_en="Beijing"))
    response = client.get(reverse("companies:facility-list"), {"region": "pudong"})
    assert [f.slug for f in response.context["page"].items] == ["juventas-zhangjiang-plant"]
    options = {o.value: o.count for o in response.context["filtered"].region_facet.options}
    assert options["pudong"] == 1 and options["shanghai"] == 1 and options["beijing"] == 1


def test_unknown_region_matches_nothing(world, client):
    response = client.get(reverse("companies:facility-list"), {"region": "atlantis"})
    assert response.context["page"].items == []


def test_modality_family_matches_members(world, client):
    response = client.get(reverse("companies:company-list"), {"modality": "cell_therapy"})
    assert [c.slug for c in response.context["page"].items] == ["juventas"]
    assert facet_counts(response, "modality")["cell_therapy"] == 1


def test_csv_export_streams_exactly_the_filtered_rows(world, client):
    add_bulk(world, 30, tag="small")
    response = client.get(
        reverse("companies:facility-list"), {"status": "operational", "format": "csv"}
    )
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows and {row["status"] for row in rows} == {"operational"}
    from companies.models import Facility

    assert len(rows) == Facility.objects.filter(status="operational").count()


def test_csv_neutralises_formulas(world, client):
    FacilityFactory(slug="formula", name_en='=HYPERLINK("x")', region=world.pudong)
    rows = csv_rows(client.get(reverse("companies:facility-list"), {"format": "csv"}))
    assert '\'=HYPERLINK("x")' in [row["name_en"] for row in rows]


def test_pagination_fetches_one_extra_row_and_never_counts(world, client):
    add_bulk(world, PAGE_SIZE + 5, tag="small")
    url = reverse("companies:facility-list")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url, {"sort": "name"})
    page_query = next(q["sql"] for q in queries.captured_queries if "LIMIT 51" in q["sql"])
    assert "COUNT(" not in page_query
    assert first.context["page"].has_next and not first.context["page"].has_previous
    second = client.get(url, {"sort": "name", "page": 2})
    assert not second.context["page"].has_next
    seen = [f.slug for f in first.context["page"].items + second.context["page"].items]
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 5 + 1
    assert 'rel="next"' in first.content.decode()


def test_region_page_lists_sub_region_records_and_labels_figures(world, client):
    body = client.get(world.pudong.get_absolute_url()).content.decode()
    assert "Juventas Zhangjiang Plant" in body
    assert "Juventas Cell Therapy" in body
    assert "Computed by the portal" in body
    body = client.get(world.zhangjiang.get_absolute_url()).content.decode()
    assert "Reported" in body and "More than 40 CGT companies" in body
    assert body.index("China") < body.index("Pudong New Area")  # breadcrumb order
    assert "sh-cell-therapy-action-plan" in body  # policy whose jurisdiction covers it


def test_company_page_shows_profile_citations_and_tabs(world, client):
    body = client.get(world.company.get_absolute_url()).content.decode()
    for text in (
        "合源生物",
        "Juventas Biotech",
        "Juventas is based in Zhangjiang.",
        "Inaticabtagene",
        "Juventas Zhangjiang manufacturing base",
        "Verified",
        "last checked",
    ):
        assert text in body
    subsidies = client.get(reverse("companies:company-subsidies", args=["juventas"]))
    assert subsidies.status_code == 200
    assert "sh-cell-therapy-2022-product-support" in subsidies.content.decode()
    history = client.get(reverse("companies:company-history", args=["juventas"]))
    assert "companies_company#" in history.content.decode()


def test_facility_page_links_company_park_investment_and_provision(world, client):
    response = client.get(world.facility.get_absolute_url())
    body = response.content.decode()
    assert world.company.get_absolute_url() in body
    assert world.zhangjiang.get_absolute_url() in body
    assert world.project.get_absolute_url() in body
    assert world.provision.get_absolute_url() in body
    assert response.context["points"][0]["approximate"] is False
    assert 'id="map-points"' in body


def test_stored_metrics_show_their_lineage(world, client):
    from portal.models import Metric

    Metric.objects.create(
        subject_type="company",
        subject_id=world.company.pk,
        name="investment_total_cny",
        value=500000000,
        unit="CNY",
        inputs={"projects": 3},
        input_version=7,
    )
    body = client.get(world.company.get_absolute_url()).content.decode()
    assert "investment_total_cny" in body
    assert "projects: 3" in body and "#7" in body
    assert "projects_investmentproject, portal_exchangerate" in body  # the family's tables
    assert "Computed by the portal" in body
