"""The curated loader: natural keys, update only what differs, all-or-nothing, system actor."""

import textwrap

import pytest
from django.core.management import CommandError, call_command

from companies.models import Company, Facility
from policies.loaders import SYSTEM_ACTOR_USERNAME, CuratedDataError, load_curated_data
from portal.models import Change, Citation, Region

pytestmark = pytest.mark.django_db

SOURCE_TEXT = "Pudong New Area is in Shanghai. Acme Bio opened a CAR-T plant in Pudong in 2024."


def _write(path, name, text):
    (path / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def dataset(tmp_path):
    _write(
        tmp_path,
        "sources.yaml",
        """
        - key: news
          seed_file: news.txt
          title: News
          language: en
        """,
    )
    _write(
        tmp_path,
        "regions.yaml",
        """
        - slug: pudong
          kind: district
          parent: shanghai
          name_en: Pudong New Area
          citations:
          - {source: news, excerpt: "Pudong New Area is in   Shanghai."}
        - slug: shanghai
          kind: municipality
          parent: null
          name_en: Shanghai
          citations:
          - {source: news, excerpt: "Pudong New Area is in Shanghai."}
        """,
    )
    _write(
        tmp_path,
        "companies.yaml",
        """
        - slug: acme-bio
          name_en: Acme Bio
          modalities: [car_t]
          registered_region: pudong
          aliases: [{name: Acme, language: en, provenance: unofficial}]
          citations:
          - {source: news, excerpt: "Acme Bio opened a CAR-T plant", field: name_en}
        """,
    )
    _write(
        tmp_path,
        "facilities.yaml",
        """
        - slug: acme-pudong-plant
          company: acme-bio
          name_en: Acme Pudong plant
          kind: manufacturing
          region: pudong
          status_history:
          - {status: announced, date: 2023-05-01, date_precision: month,
             citations: [{source: news, excerpt: "opened a CAR-T plant in Pudong"}]}
          - {status: operational, date: 2024-01-01, date_precision: year,
             citations: [{source: news, excerpt: "opened a CAR-T plant in Pudong in 2024"}]}
          citations:
          - {source: news, excerpt: "a CAR-T plant in Pudong"}
        """,
    )
    return tmp_path


def test_load_creates_in_dependency_order_and_names_the_system_actor(dataset):
    summary = load_curated_data(dataset)

    pudong = Region.objects.get(slug="pudong")
    assert pudong.parent.slug == "shanghai"  # parent listed later in the file loads first
    facility = Facility.objects.get(slug="acme-pudong-plant")
    assert (facility.status, str(facility.status_since)) == ("operational", "2024-01-01")
    assert summary.counts["companies.Company"]["created"] == 1
    assert Citation.objects.for_object(pudong).count() == 1
    actors = set(Change.objects.values_list("actor__username", "actor_label"))
    assert actors == {(SYSTEM_ACTOR_USERNAME, SYSTEM_ACTOR_USERNAME)}
    bot = Change.objects.first().actor
    assert not bot.is_active and not bot.has_usable_password()


def test_second_load_with_whitespace_only_excerpt_changes_writes_nothing(dataset):
    load_curated_data(dataset)
    changes = Change.objects.count()
    regions = (dataset / "regions.yaml").read_text()
    (dataset / "regions.yaml").write_text(regions.replace("is in   Shanghai", "is in\\n Shanghai"))

    summary = load_curated_data(dataset)

    assert summary.writes == 0
    assert Change.objects.count() == changes


def test_changed_value_is_one_audited_update_of_that_field(dataset):
    load_curated_data(dataset)
    text = (dataset / "companies.yaml").read_text()
    (dataset / "companies.yaml").write_text(
        text.replace("name_en: Acme Bio", "name_en: Acme Bio Ltd")
    )

    summary = load_curated_data(dataset)

    company = Company.objects.get(slug="acme-bio")
    assert company.name_en == "Acme Bio Ltd"
    assert company.version == 2
    assert summary.counts["companies.Company"]["updated"] == 1
    update = Change.objects.for_object(company).get(action="updated")
    assert update.diff() == [("name_en", "Acme Bio", "Acme Bio Ltd")]
    assert update.actor_label == SYSTEM_ACTOR_USERNAME


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "field"),
    [
        ("facilities.yaml", "company: acme-bio", "company: nobody", "acme-pudong-plant", "company"),
        ("companies.yaml", "modalities: [car_t]", "modalities: [magic]", "acme-bio", "modalities"),
        ("regions.yaml", "kind: district", "kind: galaxy", "pudong", "kind"),
        (
            "companies.yaml",
            'source: news, excerpt: "Acme',
            'source: nowhere, excerpt: "Acme',
            "acme-bio",
            "citations[0].source",
        ),
    ],
    ids=["unknown-reference", "bad-choice-in-list", "bad-choice", "unknown-source"],
)
def test_one_invalid_record_aborts_the_whole_load(dataset, file, old, new, key, field):
    text = (dataset / file).read_text()
    assert old in text
    (dataset / file).write_text(text.replace(old, new))

    with pytest.raises(CuratedDataError) as error:
        load_curated_data(dataset)

    assert (error.value.file, error.value.key, error.value.field_name) == (file, key, field)
    assert not Region.objects.exists()
    assert not Change.objects.exists()


def test_command_reports_the_failing_record_and_writes_nothing(dataset):
    text = (dataset / "regions.yaml").read_text()
    (dataset / "regions.yaml").write_text(text.replace("kind: district", "kind: galaxy"))

    with pytest.raises(CommandError, match=r"regions\.yaml: record 'pudong', field 'kind'"):
        call_command("load_curated_data", path=str(dataset))
    assert not Region.objects.exists()


def test_undated_status_step_sets_current_status_and_keeps_its_citation(dataset):
    text = (dataset / "facilities.yaml").read_text()
    start = text.index("  status_history:")
    end = text.index('  citations:\n  - {source: news, excerpt: "a CAR-T plant in Pudong"}')
    undated = (
        "  status_history:\n"
        "  - {status: operational, date: null,\n"
        '     citations: [{source: news, excerpt: "opened a CAR-T plant in Pudong"}]}\n'
    )
    (dataset / "facilities.yaml").write_text(text[:start] + undated + text[end:])

    load_curated_data(dataset)

    facility = Facility.objects.get(slug="acme-pudong-plant")
    assert (facility.status, facility.status_since) == ("operational", None)
    assert not facility.status_changes.exists()
    assert Citation.objects.for_object(facility).filter(field_name="status").count() == 1
    assert load_curated_data(dataset).writes == 0
