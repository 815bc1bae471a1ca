"""The engine's copies of Django-side vocabularies stay identical to the originals.

The engine cannot import Django modules, so it keeps its own copies; this test is what keeps
them in step.
"""

from companies.choices import MODALITY_PARENTS, Modality, OwnershipType
from policies.engine.currencies import ISO_4217_CODES as ENGINE_CODES
from policies.engine.facts import DEFAULT_MODALITY_PARENTS, OWNERSHIP_TYPES
from portal.currencies import ISO_4217_CODES


def test_currency_codes_match():
    assert set(ENGINE_CODES) == set(ISO_4217_CODES)


def test_modality_parents_match():
    engine = {child: set(parents) for child, parents in DEFAULT_MODALITY_PARENTS.items() if parents}
    django_side = {str(child): {str(parent)} for child, parent in MODALITY_PARENTS.items()}
    assert engine == django_side
    assert set(DEFAULT_MODALITY_PARENTS) == set(Modality.values)


def test_ownership_types_match():
    assert set(OWNERSHIP_TYPES) == set(OwnershipType.values)
