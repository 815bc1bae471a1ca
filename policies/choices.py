"""Enumerations of the policies app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PolicyKind(models.TextChoices):
    LAW = "law", _("Law")
    REGULATION = "regulation", _("Regulation")
    ACTION_PLAN = "action_plan", _("Action plan")
    PLAN = "plan", _("Plan")
    OPINION = "opinion", _("Opinion")
    NOTICE = "notice", _("Notice")
    ANNOUNCEMENT = "announcement", _("Announcement")
    NEGATIVE_LIST = "negative_list", _("Negative list")


class ValidityStatus(models.TextChoices):
    """Derived from a policy's dates on a given day; never stored."""

    NOT_YET_IN_FORCE = "not_yet_in_force", _("Not yet in force")
    IN_FORCE = "in_force", _("In force")
    EXPIRED = "expired", _("Expired")
    REPEALED = "repealed", _("Repealed")


class ProvisionKind(models.TextChoices):
    PREAMBLE = "preamble", _("Preamble")
    PRINCIPLE = "principle", _("Principle")
    OBJECTIVE = "objective", _("Objective")
    TASK = "task", _("Task")
    SUBSIDY = "subsidy", _("Subsidy")
    RESTRICTION = "restriction", _("Restriction")
    FACILITATION = "facilitation", _("Facilitation")
    TARGET = "target", _("Target")
    ASSURANCE = "assurance", _("Assurance measure")


class RelationKind(models.TextChoices):
    IMPLEMENTS = "implements", _("implements")
    AMENDS = "amends", _("amends")
    SUPERSEDES = "supersedes", _("supersedes")
    RELATES_TO = "relates_to", _("relates to")
    BASED_ON = "based_on", _("is based on")


class TargetMetric(models.TextChoices):
    CLINICAL_TRIAL_APPROVALS = "clinical_trial_approvals", _("Clinical trial approvals")
    MARKET_AUTHORIZATIONS = "market_authorizations", _("Market authorizations")
    FACILITIES_OPERATIONAL = "facilities_operational", _("Operational facilities")
    COMPANIES = "companies", _("Companies")
    INVESTMENT_AMOUNT = "investment_amount", _("Investment amount")
    INDUSTRY_SCALE = "industry_scale", _("Industry scale")
    OTHER = "other", _("Other")


class BenefitPeriod(models.TextChoices):
    CALENDAR_YEAR = "calendar_year", _("Per entity per calendar year")
