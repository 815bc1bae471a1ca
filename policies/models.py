"""Policy documents, their provisions, relations, targets and machine-readable subsidy rules."""

import datetime

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from policies.choices import (
    BenefitPeriod,
    PolicyKind,
    ProvisionKind,
    RelationKind,
    TargetMetric,
    ValidityStatus,
)
from policies.querysets import PolicyQuerySet, ProvisionQuerySet
from policies.subsidy_data import subsidy_cap_group_errors, subsidy_rule_errors
from portal.choices import Comparator, NameProvenance
from portal.models import Authority, CuratedModel, Region, currency_constraint, slug_constraint

PROVISION_PATH_PATTERN = r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$"


class Policy(CuratedModel):
    """A policy document: law, regulation, action plan, notice… with its validity dates.

    The validity status is derived from the dates on a given day (`validity_on`), never stored.
    """

    slug = models.SlugField(max_length=150)
    title_en = models.CharField(max_length=500)
    title_zh = models.CharField(max_length=500, blank=True)
    title_zh_provenance = models.CharField(
        max_length=20, choices=NameProvenance.choices, default=NameProvenance.OFFICIAL
    )
    document_number = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=30, choices=PolicyKind.choices)
    issuing_authorities = models.ManyToManyField(Authority, blank=True, related_name="policies")
    jurisdiction = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="policies")
    published_on = models.DateField(null=True, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    repealed_on = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True)
    citations = GenericRelation("portal.Citation")

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_from", "title_en"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="policy_unique_slug"),
            slug_constraint("policy_slug_format"),
            models.CheckConstraint(
                condition=models.Q(effective_from__isnull=True)
                | models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("effective_from")),
                name="policy_expires_after_effective",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_from__isnull=True)
                | models.Q(repealed_on__isnull=True)
                | models.Q(repealed_on__gte=models.F("effective_from")),
                name="policy_repealed_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return self.title_en

    def get_absolute_url(self) -> str:
        return reverse("policies:policy-detail", kwargs={"slug": self.slug})

    def validity_on(self, day: datetime.date) -> ValidityStatus:
        if self.repealed_on and self.repealed_on <= day:
            return ValidityStatus.REPEALED
        if self.effective_from and day < self.effective_from:
            return ValidityStatus.NOT_YET_IN_FORCE
        if self.expires_on and day > self.expires_on:
            return ValidityStatus.EXPIRED
        return ValidityStatus.IN_FORCE


class Provision(CuratedModel):
    """A numbered provision of a policy, addressable by its path (`IV.11`), in document order."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="provisions")
    path = models.CharField(max_length=40)
    order = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    kind = models.CharField(max_length=20, choices=ProvisionKind.choices)
    responsible_authorities = models.ManyToManyField(
        Authority, blank=True, related_name="provisions"
    )
    citations = GenericRelation("portal.Citation")

    objects = ProvisionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "path"], name="provision_unique_path"),
            models.UniqueConstraint(fields=["policy", "order"], name="provision_unique_order"),
            models.CheckConstraint(
                condition=models.Q(path__regex=PROVISION_PATH_PATTERN),
                name="provision_path_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.heading}".strip()

    def get_absolute_url(self) -> str:
        return reverse(
            "policies:provision-detail", kwargs={"slug": self.policy.slug, "path": self.path}
        )


class PolicyRelation(CuratedModel):
    """A typed link between two policies: implements, amends, supersedes, relates to, based on."""

    from_policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="outgoing_relations"
    )
    to_policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="incoming_relations"
    )
    kind = models.CharField(max_length=20, choices=RelationKind.choices)
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["from_policy", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_policy", "to_policy", "kind"], name="policy_relation_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_policy=models.F("to_policy")),
                name="policy_relation_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_policy} {self.get_kind_display()} {self.to_policy}"


class PolicyTarget(CuratedModel):
    """A quantified goal a policy sets, e.g. more than 20 clinical trial approvals by 2024."""

    slug = models.SlugField(max_length=150)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    provision = models.ForeignKey(
        Provision, null=True, blank=True, on_delete=models.SET_NULL, related_name="targets"
    )
    metric = models.CharField(max_length=40, choices=TargetMetric.choices)
    description = models.TextField()
    comparator = models.CharField(max_length=20, choices=Comparator.choices)
    value = models.DecimalField(max_digits=24, decimal_places=4)
    unit = models.CharField(max_length=50)
    period_start = models.DateField(null=True, blank=True)
    deadline = models.DateField()
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="policy_targets")
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["policy", "deadline", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="policy_target_unique_slug"),
            slug_constraint("policy_target_slug_format"),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="policy_target_value_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True)
                | models.Q(deadline__gte=models.F("period_start")),
                name="policy_target_deadline_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class SubsidyCapGroup(CuratedModel):
    """An aggregate cap shared by several subsidy rules, per entity per calendar year."""

    code = models.SlugField(max_length=150)
    name = models.CharField(max_length=300)
    amount = models.DecimalField(max_digits=20, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    period = models.CharField(
        max_length=20, choices=BenefitPeriod.choices, default=BenefitPeriod.CALENDAR_YEAR
    )
    provision = models.ForeignKey(
        Provision, null=True, blank=True, on_delete=models.PROTECT, related_name="cap_groups"
    )
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="subsidy_cap_group_unique_code"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="subsidy_cap_group_amount_not_negative"
            ),
            currency_constraint("currency", "subsidy_cap_group_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Validate with the engine's cap group parser; member rules must share the currency."""
        errors = subsidy_cap_group_errors(self)
        if errors:
            raise ValidationError(errors)


class SubsidyRule(CuratedModel):
    """A machine-readable subsidy clause: conditions and benefit as validated data, never code.

    The vocabulary of `conditions` and `benefit` is documented in docs/subsidy-rules.md and
    validated by the rules engine; the effective period defaults to the policy's.
    """

    code = models.SlugField(max_length=150)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    provision = models.ForeignKey(Provision, on_delete=models.PROTECT, related_name="subsidy_rules")
    provision_excerpt = models.TextField(
        help_text="Verbatim excerpt of the provision text that states this rule."
    )
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    benefit = models.JSONField(default=dict)
    currency = models.CharField(max_length=3, default="CNY")
    cap_group = models.ForeignKey(
        SubsidyCapGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    citations = GenericRelation("portal.Citation")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="subsidy_rule_unique_code"),
            currency_constraint("currency", "subsidy_rule_currency_iso4217"),
            models.CheckConstraint(
                condition=models.Q(effective_from__isnull=True)
                | models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="subsidy_rule_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("policies:subsidy-rule-detail", kwargs={"code": self.code})

    def clean(self) -> None:
        """Validate with the engine's vocabulary, the Region table and the policy's dates.

        The excerpt must be an exact substring of the provision text: the engine checks the
        same, so anything saved here can be evaluated (see policies/subsidy_data.py).
        """
        errors = subsidy_rule_errors(self)
        if errors:
            raise ValidationError(errors)

    @property
    def effective_period(self) -> tuple[datetime.date | None, datetime.date | None]:
        """The rule's own dates, falling back to its policy's."""
        policy = self.provision.policy
        return (
            self.effective_from or policy.effective_from,
            self.effective_to or policy.expires_on,
        )
