"""Bulk import is all-or-nothing and audited; changelists cost the same at any size."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.models import Company
from portal.models import Change
from projects.models import InvestmentProject
from projects.resources import InvestmentProjectResource
from tests import factories

pytestmark = pytest.mark.django_db

CSV_HEADER = "slug,company,title,kind,amount,currency,amount_kind,announced_on,region\n"


@pytest.fixture
def curator_client(client):
    client.force_login(factories.StaffUserFactory(username="curator"))
    return client


def _upload(client, url_name: str, content: str, name="rows.csv"):
    return client.post(
        reverse(url_name),
        {
            "format": "0",  # CSV, first of import_formats
            "import_file": SimpleUploadedFile(name, content.encode(), "text/csv"),
            "resource": "0",
        },
    )


def _project_rows(*bad_row: str) -> str:
    good = [
        "lingang-plant,acme,Lingang plant,new_facility,1500000000,CNY,capital_expenditure,"
        "2024-11-05,pudong",
        "acme-rd,acme,R&D program,rd_program,200000000,CNY,commitment,2024-03-01,pudong",
    ]
    return CSV_HEADER + "\n".join([*good, *bad_row]) + "\n"


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        (
            "refund,acme,Refund,expansion,-5,CNY,capital_expenditure,2024-01-01,pudong",
            "amount",
        ),
        (
            "ghost,no-such-company,Ghost,expansion,5,CNY,capital_expenditure,2024-01-01,pudong",
            "company",
        ),
        (
            "odd,acme,Odd money,expansion,5,XYZ,capital_expenditure,2024-01-01,pudong",
            "currency",
        ),
    ],
    ids=["negative-amount", "unknown-company", "unknown-currency"],
)
def test_import_with_one_bad_row_writes_nothing_and_names_row_and_field(
    curator_client, bad_row, field
):
    factories.CompanyFactory(slug="acme")
    factories.RegionFactory(slug="pudong")
    changes_before = Change.objects.count()

    response = _upload(
        curator_client, "admin:projects_investmentproject_import", _project_rows(bad_row)
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 3
    assert field in invalid.field_specific_errors
    assert "confirm_form" not in response.context
    assert InvestmentProject.objects.count() == 0
    assert Change.objects.count() == changes_before


def test_confirmed_import_applies_all_rows_through_services_as_the_curator(curator_client):
    factories.CompanyFactory(slug="acme")
    factories.RegionFactory(slug="pudong")

    preview = _upload(curator_client, "admin:projects_investmentproject_import", _project_rows())
    assert InvestmentProject.objects.count() == 0  # the preview is a rolled-back dry run
    confirm = preview.context["confirm_form"]
    response = curator_client.post(
        reverse("admin:projects_investmentproject_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
    )

    assert response.status_code == 302
    projects = InvestmentProject.objects.order_by("slug")
    assert [p.slug for p in projects] == ["acme-rd", "lingang-plant"]
    assert all(p.version == 1 for p in projects)
    for project in projects:
        created = Change.objects.for_object(project).get()
        assert (created.action, created.actor_label) == ("created", "curator")


def test_resource_dry_run_reports_unknown_slug_and_rolls_back():
    factories.RegionFactory(slug="pudong")
    curator = factories.StaffUserFactory(username="curator")
    import tablib

    dataset = tablib.Dataset().load(
        "slug,name_en,registered_region,modalities\n"
        "good-co,Good Co,pudong,car_t\n"
        "bad-co,Bad Co,atlantis,car_t\n",
        format="csv",
    )
    from companies.resources import CompanyResource

    result = CompanyResource().import_data(
        dataset, dry_run=False, user=curator, rollback_on_validation_errors=True
    )

    assert [row.number for row in result.invalid_rows] == [2]
    assert "registered_region" in result.invalid_rows[0].field_specific_errors
    assert not Company.objects.exists()


def test_export_renders_foreign_keys_as_slugs(curator_client):
    project = factories.InvestmentProjectFactory(company__slug="acme", region__slug="pudong")
    dataset = InvestmentProjectResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert (row["slug"], row["company"], row["region"]) == (project.slug, "acme", "pudong")
    assert "version" not in dataset.headers


def _make_companies(n):
    for _ in range(n):
        factories.CompanyFactory(parent=factories.CompanyFactory())


def _make_facilities(n):
    factories.FacilityFactory.create_batch(n)


def _make_projects(n):
    factories.InvestmentProjectFactory.create_batch(n)


def _make_milestones(n):
    factories.RegulatoryMilestoneFactory.create_batch(n, authority=factories.AuthorityFactory())


def _make_policies(n):
    factories.PolicyFactory.create_batch(n)


def _make_provisions(n):
    factories.ProvisionFactory.create_batch(n)


def _make_citations(n):
    for _ in range(n):
        factories.CitationFactory(subject=factories.CompanyFactory())


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("admin:companies_company_changelist", _make_companies),
        ("admin:companies_facility_changelist", _make_facilities),
        ("admin:projects_investmentproject_changelist", _make_projects),
        ("admin:projects_regulatorymilestone_changelist", _make_milestones),
        ("admin:policies_policy_changelist", _make_policies),
        ("admin:policies_provision_changelist", _make_provisions),
        ("admin:portal_citation_changelist", _make_citations),
    ],
    ids=lambda value: value.rsplit(":", 1)[-1] if isinstance(value, str) else None,
)
def test_changelist_query_count_does_not_grow_with_rows(curator_client, url_name, make):
    def queries() -> int:
        curator_client.get(reverse(url_name))  # warm caches (content types, session)
        with CaptureQueriesContext(connection) as captured:
            response = curator_client.get(reverse(url_name))
        assert response.status_code == 200
        return len(captured)

    make(3)
    small = queries()
    make(27)
    large = queries()

    assert large == small
