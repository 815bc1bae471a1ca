"""The real curated dataset loads into an empty database, and loading it again changes nothing."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command

from policies.loaders import SYSTEM_ACTOR_USERNAME
from portal.models import Change, CuratedModel

CURATED = Path(settings.BASE_DIR) / "fixtures" / "curated"

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if issubclass(model, CuratedModel)
    }


def test_dataset_loads_then_a_second_load_writes_nothing(capsys):
    assert not any(_counts().values())

    call_command("load_curated_data", path=str(CURATED))
    first_counts, first_changes = _counts(), Change.objects.count()
    output = capsys.readouterr().out

    for label in ("portal.Region", "companies.Company", "policies.Provision", "portal.Citation"):
        assert first_counts[label] > 0, label
    assert "companies.Company:" in output and "created" in output
    # Every audit row of the load names the system actor.
    assert set(Change.objects.values_list("actor_label", flat=True)) == {SYSTEM_ACTOR_USERNAME}

    call_command("load_curated_data", path=str(CURATED))
    output = capsys.readouterr().out

    assert _counts() == first_counts
    assert Change.objects.count() == first_changes
    assert "0 write(s)" in output


def test_loaded_status_mirrors_the_latest_dated_status_change():
    from companies.models import Facility
    from projects.models import InvestmentProject

    call_command("load_curated_data", path=str(CURATED))

    for model in (Facility, InvestmentProject):
        for record in model.objects.all():
            latest = record.status_changes.order_by("-date", "-id").first()
            if latest is not None:
                assert (record.status, record.status_since) == (latest.status, latest.date)
