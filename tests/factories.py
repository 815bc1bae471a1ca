"""factory-boy factories for every curated model; shared by all test packages."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from companies.models import Company, Facility, FacilityStatusChange, OwnershipPeriod
from policies.models import (
    Policy,
    PolicyTarget,
    Provision,
    SubsidyCapGroup,
    SubsidyRule,
)
from portal.models import Authority, Citation, ExchangeRate, Region, ReportedFigure, Source
from projects.models import InvestmentProject, Product, RegulatoryMilestone


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"region-{n}")
    kind = "district"
    name_en = factory.Sequence(lambda n: f"Region {n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        region = super()._create(model_class, *args, **kwargs)
        region.refresh_from_db(fields=["path", "depth"])  # set by the database trigger
        return region


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Source document {n}")
    language = "en"


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    source = factory.SubFactory(SourceFactory)
    excerpt = "An excerpt."
    content_type = factory.LazyAttribute(lambda c: ContentType.objects.get_for_model(c.subject))
    object_id = factory.LazyAttribute(lambda c: c.subject.pk)

    class Params:
        subject = None


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authority
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"authority-{n}")
    name_en = factory.Sequence(lambda n: f"Authority {n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"company-{n}")
    name_en = factory.Sequence(lambda n: f"Company {n}")
    modalities = factory.LazyFunction(lambda: ["car_t"])
    registered_region = factory.SubFactory(RegionFactory)
    headquarters_country = "CN"


class OwnershipPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OwnershipPeriod

    company = factory.SubFactory(CompanyFactory)
    ownership_type = "domestic"


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"facility-{n}")
    company = factory.SubFactory(CompanyFactory)
    name_en = factory.Sequence(lambda n: f"Facility {n}")
    kind = "manufacturing"
    region = factory.SubFactory(RegionFactory)
    status = "announced"


class FacilityStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacilityStatusChange

    facility = factory.SubFactory(FacilityFactory)
    status = "announced"
    date = datetime.date(2024, 1, 1)


class InvestmentProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvestmentProject
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"project-{n}")
    company = factory.SubFactory(CompanyFactory)
    title = factory.Sequence(lambda n: f"Project {n}")
    kind = "new_facility"
    amount = Decimal("1000000.00")
    currency = "CNY"
    amount_kind = "capital_expenditure"
    announced_on = datetime.date(2024, 1, 15)
    region = factory.SubFactory(RegionFactory)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"product-{n}")
    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    modality = "car_t"


class RegulatoryMilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegulatoryMilestone
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"milestone-{n}")
    product = factory.SubFactory(ProductFactory)
    kind = "clinical_trial_approval"
    date = datetime.date(2023, 6, 1)
    region = factory.SubFactory(RegionFactory)


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"policy-{n}")
    title_en = factory.Sequence(lambda n: f"Policy {n}")
    kind = "action_plan"
    jurisdiction = factory.SubFactory(RegionFactory)
    effective_from = datetime.date(2022, 1, 1)
    expires_on = datetime.date(2024, 12, 31)


class ProvisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provision

    policy = factory.SubFactory(PolicyFactory)
    path = factory.Sequence(lambda n: f"IV.{n + 1}")
    order = factory.Sequence(lambda n: n + 1)
    heading = "Heading"
    text = "Provision text."
    kind = "task"


class PolicyTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyTarget
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"target-{n}")
    policy = factory.SubFactory(PolicyFactory)
    metric = "clinical_trial_approvals"
    description = "More than 20 clinical trial approvals"
    comparator = "more_than"
    value = Decimal("20")
    unit = "products"
    period_start = datetime.date(2022, 1, 1)
    deadline = datetime.date(2024, 12, 31)
    region = factory.SubFactory(RegionFactory)


class SubsidyCapGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubsidyCapGroup
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cap-group-{n}")
    name = factory.Sequence(lambda n: f"Cap group {n}")
    amount = Decimal("100000000")
    currency = "CNY"


class SubsidyRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubsidyRule
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"rule-{n}")
    name = factory.Sequence(lambda n: f"Rule {n}")
    provision = factory.SubFactory(ProvisionFactory)
    provision_excerpt = "Provision text."
    # A rule must say which events it is about (the engine requires an event.kind condition).
    conditions = factory.LazyFunction(
        lambda: [{"fact": "event.kind", "op": "eq", "value": "market_authorization"}]
    )
    benefit = factory.LazyFunction(lambda: {"kind": "fixed", "amount": "1000"})
    currency = "CNY"


class ReportedFigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportedFigure
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"figure-{n}")
    subject_content_type = factory.LazyAttribute(
        lambda figure: ContentType.objects.get_for_model(figure.subject)
    )
    subject_id = factory.LazyAttribute(lambda figure: figure.subject.pk)
    measure = "clinical_approvals"
    description = "15 clinical approvals"
    value = Decimal("15")
    unit = "approvals"
    as_of = datetime.date(2021, 4, 1)

    class Params:
        subject = factory.SubFactory(RegionFactory)


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate
        django_get_or_create = ("currency", "date")

    currency = "USD"
    date = datetime.date(2024, 1, 1)
    rate_to_cny = Decimal("7.1000")
