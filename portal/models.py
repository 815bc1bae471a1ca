"""Shared core models: regions, sources and citations, reported figures, authorities, audit log."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from portal.choices import (
    ChangeAction,
    Comparator,
    DatePrecision,
    NameProvenance,
    RegionKind,
    VerificationState,
)
from portal.currencies import ISO_4217_CODES
from portal.querysets import ChangeQuerySet, CitationQuerySet, RegionQuerySet

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def currency_constraint(field: str, name: str) -> models.CheckConstraint:
    """Reject anything but an active ISO 4217 code, in the database itself."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__in": sorted(ISO_4217_CODES)}), name=name
    )


def optional_currency_constraint(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__isnull": True})
        | models.Q(**{f"{field}__in": sorted(ISO_4217_CODES)}),
        name=name,
    )


def slug_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(slug__regex=SLUG_PATTERN), name=name)


class CuratedModel(models.Model):
    """Base of every curated record: optimistic-lock version, timestamps, audited by trigger.

    `version` increases by one on every save through a service; a save that carries an
    older version is refused, so two curators can never silently overwrite each other.
    """

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class Region(CuratedModel):
    """A place in one hierarchy: country → province/municipality → city → district → zone/park.

    `path` is a materialised path of ids (`/1/5/9/`), maintained by a database trigger that
    also refuses cycles, so "within Shanghai" is one indexed prefix scan.
    """

    slug = models.SlugField(max_length=100)
    kind = models.CharField(max_length=20, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    name_zh_provenance = models.CharField(
        max_length=20, choices=NameProvenance.choices, default=NameProvenance.OFFICIAL
    )
    aliases = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    coordinates_approximate = models.BooleanField(default=True)
    path = models.CharField(max_length=400, editable=False, db_default="", default="")
    depth = models.PositiveSmallIntegerField(editable=False, db_default=0, default=0)
    citations = GenericRelation("portal.Citation")

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="region_unique_slug"),
            slug_constraint("region_slug_format"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="region_not_own_parent"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__range=(-90, 90)),
                name="region_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__range=(-180, 180)),
                name="region_longitude_range",
            ),
        ]
        indexes = [
            models.Index(
                OpClass("path", name="varchar_pattern_ops"), name="region_path_prefix_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name_en

    def get_absolute_url(self) -> str:
        return reverse("companies:region-detail", kwargs={"slug": self.slug})

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Source(CuratedModel):
    """A document that backs facts (news article, policy text); seeds live in fixtures/sources."""

    key = models.SlugField(max_length=120)
    title = models.CharField(max_length=500)
    publisher = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    published_on = models.DateField(null=True, blank=True)
    published_on_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    language = models.CharField(max_length=10, default="en")
    seed_file = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["key"], name="source_unique_key")]

    def __str__(self) -> str:
        return self.title


class Citation(CuratedModel):
    """Ties a curated record (optionally one of its fields) to a source with a verbatim excerpt."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    field_name = models.CharField(max_length=100, blank=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    excerpt = models.TextField()
    verification = models.CharField(
        max_length=20, choices=VerificationState.choices, default=VerificationState.VERIFIED
    )
    checked_on = models.DateField(default=timezone.localdate)

    objects = CitationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(excerpt=""), name="citation_excerpt_not_empty"
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="citation_subject_idx")]

    def __str__(self) -> str:
        return f"{self.source} — “{self.excerpt[:60]}”"


class Authority(CuratedModel):
    """A government body that issues policies or regulates products (NMPA, MOFCOM…).

    Lives in the shared core because both policies and regulatory milestones refer to it.
    """

    slug = models.SlugField(max_length=120)
    name_en = models.CharField(max_length=300)
    name_zh = models.CharField(max_length=300, blank=True)
    abbreviation = models.CharField(max_length=40, blank=True)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="authorities"
    )
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["name_en"]
        verbose_name_plural = "authorities"
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="authority_unique_slug"),
            slug_constraint("authority_slug_format"),
        ]

    def __str__(self) -> str:
        return self.abbreviation or self.name_en


class ReportedFigure(CuratedModel):
    """A statistic a source states about a region, company or policy; never mixed with metrics."""

    slug = models.SlugField(max_length=150)
    subject_content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_content_type", "subject_id")
    measure = models.CharField(max_length=100)
    description = models.TextField()
    value = models.DecimalField(max_digits=24, decimal_places=4)
    unit = models.CharField(max_length=50)
    comparator = models.CharField(
        max_length=20, choices=Comparator.choices, default=Comparator.EXACTLY
    )
    as_of = models.DateField()
    as_of_precision = models.CharField(
        max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["-as_of", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="reported_figure_unique_slug"),
            slug_constraint("reported_figure_slug_format"),
        ]
        indexes = [
            models.Index(
                fields=["subject_content_type", "subject_id"], name="reported_figure_subject_idx"
            )
        ]

    def __str__(self) -> str:
        return self.description


class ExchangeRate(CuratedModel):
    """How many CNY one unit of `currency` bought on `date` (curated, cited)."""

    currency = models.CharField(max_length=3)
    date = models.DateField()
    rate_to_cny = models.DecimalField(max_digits=18, decimal_places=8)
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchange_rate_unique_day"),
            currency_constraint("currency", "exchange_rate_currency_iso4217"),
            models.CheckConstraint(
                condition=models.Q(rate_to_cny__gt=0), name="exchange_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate_to_cny} CNY on {self.date}"


class Change(models.Model):
    """One row per insert, update or delete of an audited table, written by a database trigger.

    It is the history shown in admin (with diffs), the API change feed and the data version.
    The acting user comes from the transaction-local setting that services set.
    """

    table_name = models.CharField(max_length=100)
    object_pk = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True, default="")
    occurred_at = models.DateTimeField()
    transaction_id = models.BigIntegerField()
    old_data = models.JSONField(null=True, blank=True)
    new_data = models.JSONField(null=True, blank=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["table_name", "object_pk"], name="change_object_idx"),
            models.Index(fields=["occurred_at"], name="change_occurred_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.table_name}#{self.object_pk}"

    def diff(self) -> list[tuple[str, object, object]]:
        """Fields whose value changed, as (field, before, after); bookkeeping columns left out."""
        old, new = self.old_data or {}, self.new_data or {}
        ignored = {"version", "updated_at", "created_at"}
        keys = sorted((set(old) | set(new)) - ignored)
        return [(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]


class ApiToken(models.Model):
    """An investor's API token. Only a SHA-256 hash is stored; the token is shown once at issue."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["key_hash"], name="api_token_unique_hash"),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            ),
        ]
        indexes = [models.Index(fields=["prefix"], name="api_token_prefix_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


# Metrics -----------------------------------------------------------------------------------
# Derived figures computed from the curated tables by set-based SQL (see portal/metrics/).
# They are never edited by hand, so they are not CuratedModels and not audited: auditing them
# would make every recompute a "change" and retrigger itself.


class MetricSubjectType(models.TextChoices):
    COMPANY = "company", "Company"
    REGION = "region", "Region"
    POLICY = "policy", "Policy"
    PORTAL = "portal", "Portal-wide"


class FigureColumns(models.Model):
    """The columns of a derived figure: one value of one subject, with its lineage. Shared
    by Metric (what the families store) and Figure (what readers see)."""

    subject_type = models.CharField(max_length=10, choices=MetricSubjectType.choices)
    subject_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=80)
    dimensions = models.JSONField(default=dict, blank=True)
    value = models.DecimalField(max_digits=28, decimal_places=4)
    unit = models.CharField(max_length=40)
    input_version = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)
    inputs = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        subject = self.subject_type
        if self.subject_id is not None:
            subject = f"{subject}#{self.subject_id}"
        return f"{subject} {self.name} {self.dimensions_key} = {self.value} {self.unit}"


class Metric(FigureColumns):
    """The stored value of one derived figure of one subject, with its lineage.

    `dimensions_key` is the canonical text of `dimensions` (jsonb output is normalised: keys
    sorted, duplicates removed), generated by the database so no writer can get it wrong.
    `input_version` is the highest audit-log (Change) id the computation could see; an upsert
    only replaces a row computed from the same or an older version, so a stale task that
    finishes late never overwrites a newer value. Readers read Figure, which serves the
    investment figures' values live from their cells.
    """

    dimensions_key = models.GeneratedField(
        expression=Cast("dimensions", models.TextField()),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["subject_type", "subject_id", "name", "dimensions_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "name", "dimensions_key"],
                name="metric_unique_key",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(subject_type="portal", subject_id__isnull=True)
                | (~models.Q(subject_type="portal") & models.Q(subject_id__isnull=False)),
                name="metric_subject_id_matches_type",
            ),
        ]
        indexes = [models.Index(fields=["name", "subject_type"], name="metric_name_idx")]


class Figure(FigureColumns):
    """What readers see of the derived figures: every Metric row, with the value and lineage
    of the investment figures read live from the cells the database triggers keep (the
    `portal_figure` view, created by the projects app's migrations: see
    `projects.investment_cells.FIGURES_VIEW`).

    Same columns and ids as Metric; read-only. Pages, the API and the admin read this, the
    metric families write Metric.
    """

    dimensions_key = models.TextField()

    class Meta:
        managed = False
        db_table = "portal_figure"
        ordering = ["subject_type", "subject_id", "name", "dimensions_key"]
        verbose_name = "metric"


class MetricSnapshot(models.Model):
    """Append-only history: one row per subject per family run that rewrote some of its
    figures, holding each rewritten figure's new value (its value or its lineage changed).

    `figures` maps "<name> <dimensions_key>" (`figure_key`) to the value, null when the
    figure disappeared. Keyed by subject, not by foreign key, so the history of a figure
    survives the figure dropping to "no rows" and coming back. One row per subject rather than
    per figure: a burst of edits rewrites tens of thousands of figures of a few thousand
    subjects, and the history must not cost more to write than the figures themselves.
    """

    subject_type = models.CharField(max_length=10, choices=MetricSubjectType.choices)
    subject_id = models.BigIntegerField(null=True, blank=True)
    family = models.CharField(max_length=80)
    figures = models.JSONField(default=dict)
    input_version = models.BigIntegerField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "recorded_at"],
                name="metric_snapshot_subject_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_type}#{self.subject_id} {self.family}: {len(self.figures)} figures"

    @staticmethod
    def figure_key(name: str, dimensions_key: str) -> str:
        """The key of one figure in `figures` (the SQL writer builds the same text)."""
        return f"{name} {dimensions_key}"


class MetricComputation(models.Model):
    """When each metric family was last computed, for everything (`subject_id` NULL) or for
    one subject, and from which input version.

    Metric rows are rewritten only when their value changes, so they cannot tell on their own
    whether a subject was verified after an edit; this ledger does. The reconciler treats a
    subject as stale when an audit-log change touching it is newer than both the family's last
    full run and the subject's own last run, and a run labelled with an older version than
    either is refused. A full run supersedes (and removes) the per-subject rows it covers.
    """

    family = models.CharField(max_length=80)
    subject_type = models.CharField(max_length=10, choices=MetricSubjectType.choices)
    subject_id = models.BigIntegerField(null=True, blank=True)
    input_version = models.BigIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["family", "subject_id"],
                name="metric_computation_unique_subject",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(input_version__gte=0),
                name="metric_computation_version_not_negative",
            ),
        ]

    def __str__(self) -> str:
        scope = "all" if self.subject_id is None else f"{self.subject_type}#{self.subject_id}"
        return f"{self.family} [{scope}] @ {self.input_version}"


__all__ = [
    "ApiToken",
    "Authority",
    "Change",
    "Citation",
    "CuratedModel",
    "ExchangeRate",
    "Figure",
    "Metric",
    "MetricComputation",
    "MetricSnapshot",
    "MetricSubjectType",
    "Region",
    "ReportedFigure",
    "Source",
]
