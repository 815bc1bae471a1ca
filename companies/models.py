"""Companies, their ownership history, listings, business-scope events and facilities."""

from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.urls import reverse

from companies.choices import (
    CompanyKind,
    FacilityKind,
    FacilityStatus,
    Modality,
    OwnershipType,
)
from companies.querysets import CompanyQuerySet, FacilityQuerySet
from portal.choices import DatePrecision, NameProvenance
from portal.models import CuratedModel, Region, slug_constraint


def modality_array() -> ArrayField:
    return ArrayField(
        models.CharField(max_length=30, choices=Modality.choices), default=list, blank=True
    )


class Company(CuratedModel):
    """A company or institution active in (or partnering with) the CGT industry."""

    slug = models.SlugField(max_length=120)
    kind = models.CharField(max_length=20, choices=CompanyKind.choices, default=CompanyKind.COMPANY)
    name_en = models.CharField(max_length=300)
    name_zh = models.CharField(max_length=300, blank=True)
    name_zh_provenance = models.CharField(
        max_length=20, choices=NameProvenance.choices, default=NameProvenance.OFFICIAL
    )
    description = models.TextField(blank=True)
    headquarters_country = models.CharField(max_length=2, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="subsidiaries"
    )
    modalities = modality_array()
    registered_region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="registered_companies"
    )
    website = models.URLField(max_length=500, blank=True)
    citations = GenericRelation("portal.Citation")

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="company_unique_slug"),
            slug_constraint("company_slug_format"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="company_not_own_parent"
            ),
            models.CheckConstraint(
                condition=models.Q(headquarters_country__regex=r"^([A-Z]{2})?$"),
                name="company_headquarters_iso3166",
            ),
        ]
        indexes = [
            GinIndex(fields=["modalities"], name="company_modalities_gin"),
            # Lists sort by name with the id as tie-break (keyset pagination).
            models.Index(fields=["name_en", "id"], name="company_name_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name_en

    def get_absolute_url(self) -> str:
        return reverse("companies:company-detail", kwargs={"slug": self.slug})


class CompanyAlias(CuratedModel):
    """Another name a company is known by, with where the name comes from."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=300)
    language = models.CharField(max_length=10, default="en")
    provenance = models.CharField(
        max_length=20, choices=NameProvenance.choices, default=NameProvenance.OFFICIAL
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "company aliases"
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="company_alias_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class OwnershipPeriod(CuratedModel):
    """The company's ownership type over a period (open-ended where the end is unknown)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="ownership_periods")
    ownership_type = models.CharField(max_length=20, choices=OwnershipType.choices)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["company", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_from__isnull=True)
                | models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="ownership_period_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["company", "ownership_type", "effective_from"],
                name="ownership_period_unique_start",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company}: {self.get_ownership_type_display()}"


class StockListing(CuratedModel):
    """A listing of the company's shares on an exchange."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="listings")
    exchange = models.CharField(max_length=40)
    ticker = models.CharField(max_length=20)
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["exchange", "ticker"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "ticker"], name="stock_listing_unique")
        ]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.ticker}"


class BusinessScopeEvent(CuratedModel):
    """A dated change to a company's business scope (e.g. cell and gene therapy added)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="scope_events")
    date = models.DateField()
    date_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    description = models.TextField()
    modalities = modality_array()
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["company", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "date", "description"], name="scope_event_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company} {self.date}: {self.description[:60]}"


class Facility(CuratedModel):
    """A manufacturing site, innovation center, biobank, lab or office of a company.

    `status` and `status_since` mirror the latest FacilityStatusChange; services keep them in
    step inside the same transaction so lists can filter by status without a subquery per row.
    """

    slug = models.SlugField(max_length=150)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="facilities")
    name_en = models.CharField(max_length=300)
    name_zh = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=30, choices=FacilityKind.choices)
    modalities = modality_array()
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="facilities")
    status = models.CharField(
        max_length=30, choices=FacilityStatus.choices, default=FacilityStatus.ANNOUNCED
    )
    status_since = models.DateField(null=True, blank=True)
    capacity_notes = models.TextField(blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    citations = GenericRelation("portal.Citation")

    objects = FacilityQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name_plural = "facilities"
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="facility_unique_slug"),
            slug_constraint("facility_slug_format"),
        ]
        indexes = [
            models.Index(fields=["status"], name="facility_status_idx"),
            models.Index(fields=["kind"], name="facility_kind_idx"),
            models.Index(fields=["name_en", "id"], name="facility_name_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name_en

    def get_absolute_url(self) -> str:
        return reverse("companies:facility-detail", kwargs={"slug": self.slug})


class FacilityStatusChange(CuratedModel):
    """A dated lifecycle step: announced → planned → under construction → operational."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=30, choices=FacilityStatus.choices)
    date = models.DateField()
    date_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    note = models.TextField(blank=True)
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["facility", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "status", "date"], name="facility_status_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility}: {self.status} on {self.date}"
