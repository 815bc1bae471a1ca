"""Read selectors of the companies app.

Page reads (analyst list/detail pages) return a FilteredList or fetch a fixed number of
queries per page; API reads return annotated QuerySets for portal.api's fast list path.
"""

import datetime

from django.db.models import QuerySet

from companies.choices import Modality, expand_modalities
from companies.models import Company, Facility


def modality_family(modality: str) -> list[str]:
    """The modality and every narrower one (`cell_therapy` → car_t, tcr_t, nk_cell…)."""
    return sorted(m for m in Modality.values if modality in expand_modalities([m]))


# API reads -----------------------------------------------------------------------------


def company_api_list(*, ownership_on: datetime.date | None = None) -> QuerySet[Company]:
    """Companies with `ownership_type` in force on the day (today by default)."""
    return Company.objects.with_ownership_on(ownership_on)


def facility_api_list() -> QuerySet[Facility]:
    return Facility.objects.all()
