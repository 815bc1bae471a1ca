"""Investment projects, products and their regulatory milestones."""

from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse

from companies.choices import Modality
from companies.models import Company, Facility
from portal.choices import DatePrecision
from portal.models import (
    Authority,
    CuratedModel,
    Region,
    optional_currency_constraint,
    slug_constraint,
)
from projects.choices import AmountKind, CellGrain, MilestoneKind, ProjectKind, ProjectStatus
from projects.querysets import InvestmentProjectQuerySet, MilestoneQuerySet


class InvestmentProject(CuratedModel):
    """An announced investment: a new facility, an expansion, an equity stake, an agreement.

    The amount is a Decimal with an ISO 4217 currency and an amount kind; announced and built
    are kept apart by the dated status history. `status` mirrors the latest status change.
    """

    slug = models.SlugField(max_length=150)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="projects")
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    title = models.CharField(max_length=400)
    kind = models.CharField(max_length=30, choices=ProjectKind.choices)
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    # NULL, not "", so the database can require "amount and currency both set or both absent".
    currency = models.CharField(max_length=3, null=True, blank=True)  # noqa: DJ001
    amount_kind = models.CharField(
        max_length=30, choices=AmountKind.choices, default=AmountKind.CAPITAL_EXPENDITURE
    )
    announced_on = models.DateField()
    announced_on_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="projects")
    partners = models.ManyToManyField(Company, blank=True, related_name="partner_projects")
    status = models.CharField(
        max_length=30, choices=ProjectStatus.choices, default=ProjectStatus.ANNOUNCED
    )
    status_since = models.DateField(null=True, blank=True)
    citations = GenericRelation("portal.Citation")

    objects = InvestmentProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-announced_on", "title"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="project_unique_slug"),
            slug_constraint("project_slug_format"),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="project_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True, currency__isnull=True)
                | models.Q(amount__isnull=False, currency__isnull=False),
                name="project_amount_has_currency",
            ),
            optional_currency_constraint("currency", "project_currency_iso4217"),
        ]
        indexes = [
            models.Index(fields=["announced_on", "id"], name="project_announced_on_idx"),
            models.Index(fields=["amount_kind", "currency"], name="project_amount_kind_idx"),
            # Projects without an amount are the ones the investment cells do not count.
            models.Index(
                fields=["id"],
                condition=models.Q(amount__isnull=True),
                name="project_without_amount_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:project-detail", kwargs={"slug": self.slug})


class ProjectStatusChange(CuratedModel):
    """A dated step of a project: announced → signed → under construction → operational."""

    project = models.ForeignKey(
        InvestmentProject, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=30, choices=ProjectStatus.choices)
    date = models.DateField()
    date_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    note = models.TextField(blank=True)
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["project", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "status", "date"], name="project_status_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.status} on {self.date}"


class Product(CuratedModel):
    """A therapy product or candidate of a company, with its targets and indications."""

    slug = models.SlugField(max_length=150)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    modality = models.CharField(max_length=30, choices=Modality.choices)
    targets = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    indications = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="product_unique_slug"),
            slug_constraint("product_slug_format"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("projects:product-detail", kwargs={"slug": self.slug})


class RegulatoryMilestone(CuratedModel):
    """A regulatory event of a product: clinical trial approval, filing, market authorization…"""

    slug = models.SlugField(max_length=150)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="milestones")
    kind = models.CharField(max_length=40, choices=MilestoneKind.choices)
    authority = models.ForeignKey(
        Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="milestones"
    )
    date = models.DateField()
    date_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="milestones")
    note = models.TextField(blank=True)
    citations = GenericRelation("portal.Citation")

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="milestone_unique_slug"),
            slug_constraint("milestone_slug_format"),
        ]
        indexes = [models.Index(fields=["kind", "date"], name="milestone_kind_date_idx")]

    def __str__(self) -> str:
        return f"{self.product} — {self.get_kind_display()} ({self.date})"

    def get_absolute_url(self) -> str:
        return reverse("projects:milestone-detail", kwargs={"slug": self.slug})


class CompanyInvestmentCell(models.Model):
    """Exact running totals of a company's projects per (amount kind, currency), kept by
    database triggers in the same transaction as every project write.

    Derived, never curated: the investment metrics read these instead of re-aggregating every
    project. Converted amounts are unrounded (CNY) or per project to 6 decimals (USD), so the
    running sums stay exact however many edits are applied. No CHECK on the counts: triggers
    write signed deltas through INSERT … ON CONFLICT, whose proposed row is checked before it
    meets the stored one.
    """

    # No index of its own: the unique key starts with it (one index less for the triggers to
    # keep, and the planner probes the key, not a prefix it must filter).
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    amount_kind = models.CharField(max_length=30, choices=AmountKind.choices)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=40, decimal_places=10)
    amount_cny = models.DecimalField(max_digits=40, decimal_places=10)
    amount_usd = models.DecimalField(max_digits=40, decimal_places=10)
    projects = models.IntegerField()
    converted_cny = models.IntegerField()
    converted_usd = models.IntegerField()
    # Lineage of the figures served from this cell: the newest audit-log id and the time of
    # the write that last changed it.
    input_version = models.BigIntegerField(db_default=0)
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "amount_kind", "currency"], name="company_cell_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.amount_kind} {self.currency}: {self.amount}"


class RegionInvestmentCell(models.Model):
    """Exact running totals of the projects in a region and all its descendants, per (amount
    kind, currency, announcement year); kept by triggers like CompanyInvestmentCell.

    Every project counts in its region and each ancestor (the materialised path), so a region's
    figure is one row, not a roll-up at read time.
    """

    # No index of its own: the unique key starts with it (see CompanyInvestmentCell.company).
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", db_index=False)
    amount_kind = models.CharField(max_length=30, choices=AmountKind.choices)
    currency = models.CharField(max_length=3)
    year = models.IntegerField()
    amount = models.DecimalField(max_digits=40, decimal_places=10)
    amount_cny = models.DecimalField(max_digits=40, decimal_places=10)
    projects = models.IntegerField()
    converted_cny = models.IntegerField()
    input_version = models.BigIntegerField(db_default=0)  # lineage, as CompanyInvestmentCell's
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            # Year before currency: a metric run reads a region's slice (amount kind, year)
            # with every currency by one exact index range.
            models.UniqueConstraint(
                fields=["region", "amount_kind", "year", "currency"],
                name="region_cell_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.amount_kind} {self.currency} {self.year}: {self.amount}"


class InvestmentCellChange(models.Model):
    """Queue of investment cells changed since the metrics last read them.

    Written by the cell triggers, consumed (deleted) by the investment metric families in the
    statement that rewrites the affected figures, so each change is applied exactly once and a
    change committed during a recompute waits for the next one. `part` is the changed cell's key
    within its subject: "amount kind|currency" (company) or "amount kind|year|currency"
    (region).
    """

    grain = models.CharField(max_length=10, choices=CellGrain.choices)
    subject_id = models.BigIntegerField()
    part = models.CharField(max_length=60)
    # The write created the cell: a figure without a stored row may follow from it.
    new_cell = models.BooleanField(db_default=False)

    class Meta:
        indexes = [models.Index(fields=["grain", "id"], name="cell_change_grain_idx")]

    def __str__(self) -> str:
        return f"{self.grain}#{self.subject_id} {self.part}"
