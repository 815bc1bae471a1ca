"""Every loaded citation quotes its source verbatim, and every curated record is cited."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from companies.models import CompanyAlias, OwnershipPeriod, StockListing
from portal.models import Citation, CuratedModel, Source

FIXTURES = Path(settings.BASE_DIR) / "fixtures"

# Child rows the dataset format does not cite (docs/dataset-format.md).
UNCITED_BY_SPEC = {Citation, Source, CompanyAlias, OwnershipPeriod, StockListing}

pytestmark = pytest.mark.django_db


def _normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def loaded():
    call_command("load_curated_data", path=str(FIXTURES / "curated"))


def test_every_citation_excerpt_appears_verbatim_in_its_seed_file(loaded):
    texts = {
        source.pk: _normalise((FIXTURES / "sources" / source.seed_file).read_text("utf-8"))
        for source in Source.objects.exclude(seed_file="")
    }
    citations = list(Citation.objects.select_related("source"))
    assert citations
    missing = [
        (c.source.key, c.excerpt[:80])
        for c in citations
        if c.source_id not in texts or _normalise(c.excerpt) not in texts[c.source_id]
    ]
    assert missing == []


def test_every_curated_record_has_at_least_one_citation(loaded):
    uncited = []
    for model in apps.get_models():
        if not issubclass(model, CuratedModel) or model in UNCITED_BY_SPEC:
            continue
        content_type = ContentType.objects.get_for_model(model)
        cited = set(
            Citation.objects.filter(content_type=content_type).values_list("object_id", flat=True)
        )
        uncited += [f"{model._meta.label} {obj}" for obj in model.objects.exclude(pk__in=cited)]
    assert uncited == []


def test_the_check_catches_an_excerpt_that_is_not_in_the_source(loaded):
    """Guard against a vacuous test: a paraphrase must be detected."""
    citation = Citation.objects.select_related("source").exclude(source__seed_file="").first()
    text = _normalise((FIXTURES / "sources" / citation.source.seed_file).read_text("utf-8"))
    assert _normalise(citation.excerpt) in text
    assert _normalise(citation.excerpt + " (paraphrased)") not in text
