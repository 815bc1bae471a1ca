"""Enumerations of the companies app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CompanyKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INSTITUTION = "institution", _("Institution")


class OwnershipType(models.TextChoices):
    FOREIGN_INVESTED = "foreign_invested", _("Foreign-invested enterprise")
    DOMESTIC = "domestic", _("Domestic")
    JOINT_VENTURE = "joint_venture", _("Joint venture")
    STATE_OWNED = "state_owned", _("State-owned")


class Modality(models.TextChoices):
    CELL_THERAPY = "cell_therapy", _("Cell therapy")
    CAR_T = "car_t", _("CAR-T")
    TCR_T = "tcr_t", _("TCR-T")
    NK_CELL = "nk_cell", _("NK cell")
    STEM_CELL = "stem_cell", _("Stem cell")
    GENE_THERAPY = "gene_therapy", _("Gene therapy")
    GENE_DIAGNOSTICS = "gene_diagnostics", _("Gene diagnostics")
    SMALL_MOLECULE = "small_molecule", _("Small molecule")
    BIOLOGICS = "biologics", _("Biologics")
    INHALATION = "inhalation", _("Inhalation")
    VACCINE = "vaccine", _("Vaccine")
    TESTING_SERVICES = "testing_services", _("Testing services")
    OTHER = "other", _("Other")


# A specific modality counts as its broader family too (a CAR-T product is a cell therapy product).
MODALITY_PARENTS: dict[str, str] = {
    Modality.CAR_T: Modality.CELL_THERAPY,
    Modality.TCR_T: Modality.CELL_THERAPY,
    Modality.NK_CELL: Modality.CELL_THERAPY,
    Modality.STEM_CELL: Modality.CELL_THERAPY,
}


def expand_modalities(modalities) -> frozenset[str]:
    """The modalities plus every broader family they belong to."""
    expanded = set()
    for modality in modalities:
        while modality:
            expanded.add(str(modality))
            modality = MODALITY_PARENTS.get(modality)
    return frozenset(expanded)


class FacilityKind(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing site")
    INNOVATION_CENTER = "innovation_center", _("R&D / innovation center")
    BIOBANK = "biobank", _("Biobank")
    TESTING_LAB = "testing_lab", _("Testing lab")
    OFFICE = "office", _("Office")


class FacilityStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Announced")
    PLANNED = "planned", _("Planned")
    UNDER_CONSTRUCTION = "under_construction", _("Under construction")
    OPERATIONAL = "operational", _("Operational")
    CLOSED = "closed", _("Closed")
