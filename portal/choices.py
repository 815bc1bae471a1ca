"""Enumerations shared by every app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionKind(models.TextChoices):
    COUNTRY = "country", _("Country")
    PROVINCE = "province", _("Province")
    MUNICIPALITY = "municipality", _("Municipality")
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    ZONE = "zone", _("Zone")
    PARK = "park", _("Park")


class NameProvenance(models.TextChoices):
    OFFICIAL = "official", _("Official")
    UNOFFICIAL = "unofficial", _("Unofficial translation")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class VerificationState(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    PENDING = "pending", _("Pending")
    DISPUTED = "disputed", _("Disputed")


class Comparator(models.TextChoices):
    EXACTLY = "exactly", _("exactly")
    MORE_THAN = "more_than", _("more than")
    AT_LEAST = "at_least", _("at least")
    ABOUT = "about", _("about")
    LESS_THAN = "less_than", _("less than")
    AT_MOST = "at_most", _("at most")


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DELETED = "deleted", _("Deleted")
