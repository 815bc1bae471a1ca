"""The synthetic benchmark data generator: counts, determinism, constraints, refusal."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from bench.demo_data import (
    SOURCE_KEY,
    SOURCE_TITLE,
    DemoDataRefused,
    Scale,
    content_checksums,
    generate,
)
from companies.models import Company, Facility, FacilityStatusChange
from portal.models import Change, Citation, Region, Source
from projects.models import InvestmentProject, ProjectStatusChange
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

SMALL = Scale(companies=200, facilities_per_company=2, projects_per_company=3, seed=7)


def generated_checksums(scale: Scale) -> dict[str, str]:
    """Generate inside a savepoint, checksum, roll back: the next run starts from empty."""
    with transaction.atomic():
        generate(scale, progress=False)
        checksums = content_checksums()
        transaction.set_rollback(True)
    return checksums


def schema_objects() -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
        foreign_keys = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
        indexes = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'portal_audit' AND tgenabled = 'O'"
        )
        audit_triggers = cursor.fetchone()[0]
    return foreign_keys, indexes, audit_triggers


def test_generates_the_requested_counts_all_marked_synthetic():
    counts = generate(SMALL, progress=False)

    assert Company.objects.count() == counts["companies_company"] == 200
    assert Facility.objects.count() == 400
    assert InvestmentProject.objects.count() == 600
    assert Region.objects.count() > 2000
    for model in (Company, Facility, InvestmentProject, Region):
        assert not model.objects.exclude(slug__startswith="demo-").exists()
    source = Source.objects.get(key=SOURCE_KEY)
    assert source.title == SOURCE_TITLE
    # Every company, facility and project cites the synthetic source.
    assert Citation.objects.filter(source=source).count() == 200 + 400 + 600
    assert "not real" in Company.objects.first().description


def test_denormalised_status_matches_its_status_change_row():
    generate(SMALL, progress=False)

    for facility in Facility.objects.all()[:50]:
        change = FacilityStatusChange.objects.get(facility=facility)
        assert (facility.status, facility.status_since) == (change.status, change.date)
    for project in InvestmentProject.objects.all()[:50]:
        change = ProjectStatusChange.objects.get(project=project)
        assert (project.status, project.status_since) == (change.status, change.date)
        assert project.status_since >= project.announced_on


def test_same_seed_gives_the_same_rows_and_another_seed_does_not():
    first = generated_checksums(SMALL)
    second = generated_checksums(SMALL)
    other = generated_checksums(Scale(companies=200, projects_per_company=3, seed=8))

    assert first == second
    assert None not in first.values()
    assert first["projects"] != other["projects"]


def test_rows_pass_model_validation_and_database_constraints():
    generate(SMALL, progress=False)

    # Choices are not enforced by the database; full_clean checks them and the slug format.
    for model in (Company, Facility, InvestmentProject):
        for row in model.objects.order_by("?")[:25]:
            row.full_clean()
    amounts = InvestmentProject.objects.exclude(amount=None)
    assert not amounts.filter(amount__lt=0).exists()
    assert set(amounts.values_list("currency", flat=True)) == {"CNY", "USD", "EUR"}
    assert not InvestmentProject.objects.filter(amount=None).exclude(currency=None).exists()
    assert InvestmentProject.objects.values("amount_kind").distinct().count() == 3


def test_constraints_and_audit_trigger_are_restored_after_the_load():
    before = schema_objects()

    generate(SMALL, progress=False, skip_audit=True)

    assert schema_objects() == before
    assert not Change.objects.filter(table_name="projects_investmentproject").exists()


def test_audit_rows_are_written_unless_skipped():
    generate(Scale(companies=5, projects_per_company=1), progress=False)

    assert Change.objects.filter(table_name="companies_company").count() == 5


def test_refuses_a_database_with_curated_sources():
    SourceFactory(key="action-plan-2022")

    with pytest.raises(DemoDataRefused, match="curated"):
        generate(SMALL, progress=False)
    assert not Company.objects.exists()


def test_force_into_curated_loads_anyway():
    SourceFactory(key="action-plan-2022")

    generate(Scale(companies=3), progress=False, force_into_curated=True)

    assert Company.objects.filter(slug__startswith="demo-").count() == 3


def test_refuses_a_second_load():
    generate(Scale(companies=3), progress=False)

    with pytest.raises(DemoDataRefused, match="already contains demo data"):
        generate(Scale(companies=3), progress=False)


def test_command_reports_the_refusal():
    SourceFactory(key="action-plan-2022")

    with pytest.raises(CommandError, match="force-into-curated"):
        call_command("generate_demo_data", "--companies", "3", "--no-progress")


def test_command_loads_the_requested_scale(capsys):
    call_command(
        "generate_demo_data",
        "--companies",
        "4",
        "--facilities-per-company",
        "1",
        "--projects-per-company",
        "2",
        "--skip-audit",
        "--no-progress",
    )

    assert Facility.objects.count() == 4
    assert InvestmentProject.objects.count() == 8
    output = capsys.readouterr().out
    assert "portal_audit trigger disabled" in output
    assert "re-enabled" in output
