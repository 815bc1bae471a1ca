"""Enumerations of the projects app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectKind(models.TextChoices):
    NEW_FACILITY = "new_facility", _("New facility")
    EXPANSION = "expansion", _("Expansion")
    EQUITY_INVESTMENT = "equity_investment", _("Equity / fund investment")
    COOPERATION_AGREEMENT = "cooperation_agreement", _("Cooperation agreement")
    RD_PROGRAM = "rd_program", _("R&D program")


class AmountKind(models.TextChoices):
    """What an amount measures. Different kinds are never summed together."""

    CAPITAL_EXPENDITURE = "capital_expenditure", _("Capital expenditure")
    COMMITMENT = "commitment", _("Investment commitment")
    EXPECTED_ANNUAL_OUTPUT = "expected_annual_output", _("Expected annual output value")


class ProjectStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Announced")
    SIGNED = "signed", _("Signed")
    UNDER_CONSTRUCTION = "under_construction", _("Under construction")
    OPERATIONAL = "operational", _("Operational")
    CANCELLED = "cancelled", _("Cancelled")


class MilestoneKind(models.TextChoices):
    CLINICAL_TRIAL_APPROVAL = "clinical_trial_approval", _("Clinical trial approval")
    REGISTRATION_FILING = "registration_filing", _("Registration filing")
    MARKET_AUTHORIZATION = "market_authorization", _("Market authorization")
    COMMERCIAL_LAUNCH = "commercial_launch", _("Commercial launch")
    BREAKTHROUGH_DESIGNATION = "breakthrough_designation", _("Breakthrough therapy designation")


class CellGrain(models.TextChoices):
    """Which running totals a queued investment-cell change belongs to."""

    COMPANY = "company", "Company"
    REGION = "region", "Region"
