"""Test data for the analyst pages: a small Shanghai world plus bulk rows on demand.

`build_world()` makes the named records the page and browser tests navigate through;
`add_bulk(world, n)` adds n rows to every list and to every detail page's related lists
(bulk_create: no per-row factories), so query counts can be compared at 10 and 1,000 rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from companies.models import Company, CompanyAlias, Facility, FacilityStatusChange
from policies.engine import task11
from policies.models import Policy, PolicyRelation, PolicyTarget, Provision, SubsidyRule
from portal.models import Citation, Region
from projects.models import InvestmentProject, Product, RegulatoryMilestone
from tests.factories import (
    AuthorityFactory,
    CitationFactory,
    CompanyFactory,
    FacilityFactory,
    FacilityStatusChangeFactory,
    InvestmentProjectFactory,
    OwnershipPeriodFactory,
    PolicyFactory,
    PolicyTargetFactory,
    ProductFactory,
    ProvisionFactory,
    RegionFactory,
    RegulatoryMilestoneFactory,
    ReportedFigureFactory,
    SourceFactory,
    SubsidyCapGroupFactory,
    SubsidyRuleFactory,
)


@dataclass
class World:
    china: Region
    shanghai: Region
    pudong: Region
    zhangjiang: Region
    company: Company
    facility: Facility
    project: InvestmentProject
    product: Product
    milestone: RegulatoryMilestone
    policy: Policy
    provision: Provision
    rule: SubsidyRule
    other_policy: Policy


def build_world() -> World:
    china = RegionFactory(slug="china", kind="country", name_en="China", name_zh="中国")
    shanghai = RegionFactory(
        slug="shanghai",
        kind="municipality",
        name_en="Shanghai",
        name_zh="上海",
        parent=china,
        latitude=Decimal("31.23"),
        longitude=Decimal("121.47"),
    )
    pudong = RegionFactory(
        slug="pudong",
        kind="district",
        name_en="Pudong New Area",
        name_zh="浦东新区",
        parent=shanghai,
        latitude=Decimal("31.22"),
        longitude=Decimal("121.54"),
    )
    zhangjiang = RegionFactory(
        slug="zhangjiang",
        kind="park",
        name_en="Zhangjiang High-Tech Park",
        name_zh="张江高科技园区",
        parent=pudong,
        latitude=Decimal("31.20"),
        longitude=Decimal("121.59"),
    )
    source = SourceFactory(key="action-plan", title=task11.SOURCE_TITLE)
    company = CompanyFactory(
        slug="juventas",
        name_en="Juventas Cell Therapy",
        name_zh="合源生物",
        modalities=["car_t"],
        registered_region=zhangjiang,
        description="CAR-T developer in Zhangjiang.",
    )
    CompanyAlias.objects.create(company=company, name="Juventas Biotech")
    OwnershipPeriodFactory(company=company, ownership_type="domestic")
    CitationFactory(subject=company, source=source, excerpt="Juventas is based in Zhangjiang.")
    facility = FacilityFactory(
        slug="juventas-zhangjiang-plant",
        company=company,
        name_en="Juventas Zhangjiang Plant",
        name_zh="合源张江工厂",
        region=zhangjiang,
        status="operational",
        status_since=datetime.date(2023, 5, 1),
        latitude=Decimal("31.201"),
        longitude=Decimal("121.601"),
    )
    FacilityStatusChangeFactory(
        facility=facility, status="announced", date=datetime.date(2021, 3, 1)
    )
    FacilityStatusChangeFactory(
        facility=facility, status="operational", date=datetime.date(2023, 5, 1)
    )
    project = InvestmentProjectFactory(
        slug="juventas-plant-capex",
        company=company,
        facility=facility,
        title="Juventas Zhangjiang manufacturing base",
        region=zhangjiang,
        amount=Decimal("500000000"),
        announced_on=datetime.date(2021, 3, 1),
    )
    product = ProductFactory(slug="inaticabtagene", company=company, name="Inaticabtagene")
    milestone = RegulatoryMilestoneFactory(
        slug="inaticabtagene-approval",
        product=product,
        kind="market_authorization",
        date=datetime.date(2023, 11, 8),
        region=china,
    )
    authority = AuthorityFactory(slug="sh-finance", name_en="Shanghai Finance Bureau")
    policy = PolicyFactory(
        slug="sh-cell-therapy-action-plan",
        title_en=task11.SOURCE_TITLE,
        title_zh="上海市促进细胞治疗科技创新与产业发展行动方案",
        jurisdiction=shanghai,
        published_on=datetime.date(2022, 11, 10),
        effective_from=datetime.date(2022, 11, 10),
        expires_on=datetime.date(2099, 12, 31),
    )
    policy.issuing_authorities.add(authority)
    provision = ProvisionFactory(
        policy=policy,
        path="IV.11",
        order=11,
        heading="Strengthen policy support",
        text=task11.TASK_11_TEXT,
        kind="subsidy",
    )
    provision.responsible_authorities.add(authority)
    CitationFactory(subject=provision, source=source, excerpt=task11.PRODUCT_SUPPORT_EXCERPT)
    cap = SubsidyCapGroupFactory(code="sh-annual-cap", name="Annual entity cap")
    SubsidyRuleFactory(
        code="sh-cell-therapy-2022-product-support",
        name="Cell therapy product launch support",
        provision=provision,
        provision_excerpt=task11.PRODUCT_SUPPORT_EXCERPT,
        conditions=task11.PRODUCT_SUPPORT_RULE["conditions"],
        benefit=task11.PRODUCT_SUPPORT_RULE["benefit"],
        cap_group=cap,
        effective_from=datetime.date(2022, 11, 10),
        effective_to=datetime.date(2024, 12, 31),
    )
    rule = SubsidyRuleFactory(
        code="sh-cell-therapy-2022-liability-insurance",
        name="Liability insurance premium subsidy",
        provision=provision,
        provision_excerpt=task11.LIABILITY_INSURANCE_EXCERPT,
        conditions=task11.LIABILITY_INSURANCE_RULE["conditions"],
        benefit=task11.LIABILITY_INSURANCE_RULE["benefit"],
        effective_from=datetime.date(2022, 11, 10),
        effective_to=datetime.date(2024, 12, 31),
    )
    other_policy = PolicyFactory(
        slug="national-biotech-plan", title_en="National bioeconomy plan", jurisdiction=china
    )
    PolicyRelation.objects.create(from_policy=policy, to_policy=other_policy, kind="implements")
    PolicyTargetFactory(
        policy=policy,
        provision=provision,
        metric="market_authorizations",
        description="At least 5 cell therapy market authorizations",
        comparator="at_least",
        value=Decimal("5"),
        region=shanghai,
        period_start=datetime.date(2022, 1, 1),
        deadline=datetime.date(2024, 12, 31),
    )
    ReportedFigureFactory(subject=zhangjiang, description="More than 40 CGT companies")
    return World(
        china=china,
        shanghai=shanghai,
        pudong=pudong,
        zhangjiang=zhangjiang,
        company=company,
        facility=facility,
        project=project,
        product=product,
        milestone=milestone,
        policy=policy,
        provision=provision,
        rule=rule,
        other_policy=other_policy,
    )


def add_bulk(world: World, n: int, *, tag: str = "bulk") -> None:
    """n more rows of every kind, related to the world's named records and regions."""
    parks = Region.objects.bulk_create(
        Region(slug=f"{tag}-park-{i}", kind="park", name_en=f"Park {i}", parent=world.pudong)
        for i in range(n)
    )
    companies = Company.objects.bulk_create(
        Company(
            slug=f"{tag}-company-{i}",
            name_en=f"Bulk Company {i}",
            modalities=["gene_therapy"] if i % 2 else ["car_t"],
            registered_region=world.zhangjiang if i % 2 else parks[i],
            parent=world.company if i % 3 == 0 else None,
        )
        for i in range(n)
    )
    facilities = Facility.objects.bulk_create(
        Facility(
            slug=f"{tag}-facility-{i}",
            company=world.company if i % 2 else companies[i],
            name_en=f"Bulk Facility {i}",
            kind="manufacturing" if i % 2 else "office",
            status="planned" if i % 3 else "operational",
            region=world.zhangjiang if i % 2 else parks[i],
        )
        for i in range(n)
    )
    FacilityStatusChange.objects.bulk_create(
        FacilityStatusChange(
            facility=world.facility,
            status="planned",
            date=datetime.date(2000 if tag == "large" else 1990, 1, 1) + _days(i),
        )
        for i in range(n)
    )
    projects = InvestmentProject.objects.bulk_create(
        InvestmentProject(
            slug=f"{tag}-project-{i}",
            company=world.company if i % 2 else companies[i],
            facility=world.facility if i % 2 else facilities[i],
            title=f"Bulk project {i}",
            kind="expansion",
            amount=Decimal(1000 + i),
            currency="CNY" if i % 2 else "USD",
            announced_on=datetime.date(2015 + i % 10, 1, 1),
            region=world.zhangjiang if i % 2 else parks[i],
        )
        for i in range(n)
    )
    products = Product.objects.bulk_create(
        Product(
            slug=f"{tag}-product-{i}",
            company=world.company,
            name=f"Bulk product {i}",
            modality="car_t",
        )
        for i in range(n)
    )
    RegulatoryMilestone.objects.bulk_create(
        RegulatoryMilestone(
            slug=f"{tag}-milestone-{i}",
            product=products[i] if i % 2 else world.product,
            kind="clinical_trial_approval",
            date=datetime.date(2023, 1, 1),
            region=world.shanghai,
        )
        for i in range(n)
    )
    policies = Policy.objects.bulk_create(
        Policy(
            slug=f"{tag}-policy-{i}",
            title_en=f"Bulk policy {i}",
            kind="notice",
            jurisdiction=world.shanghai if i % 2 else world.china,
            effective_from=datetime.date(2020, 1, 1),
        )
        for i in range(n)
    )
    PolicyRelation.objects.bulk_create(
        PolicyRelation(from_policy=policies[i], to_policy=world.policy, kind="relates_to")
        for i in range(n)
    )
    Provision.objects.bulk_create(
        Provision(
            policy=world.policy,
            path=f"{tag.upper()}.{i}",
            order=(200_000 if tag == "large" else 100_000) + i,
            heading=f"Bulk provision {i}",
            text="Text.",
            kind="task",
        )
        for i in range(n)
    )
    PolicyTarget.objects.bulk_create(
        PolicyTarget(
            slug=f"{tag}-target-{i}",
            policy=world.policy,
            metric=["clinical_trial_approvals", "facilities_operational", "companies", "other"][
                i % 4
            ],
            description=f"Bulk target {i}",
            comparator="at_least",
            value=Decimal(10),
            unit="items",
            deadline=datetime.date(2030, 1, 1),
            region=world.shanghai,
        )
        for i in range(n)
    )
    SubsidyRule.objects.bulk_create(
        SubsidyRule(
            code=f"{tag}-rule-{i}",
            name=f"Bulk rule {i}",
            provision=world.provision,
            provision_excerpt=task11.LIABILITY_INSURANCE_EXCERPT,
            conditions=task11.LIABILITY_INSURANCE_RULE["conditions"],
            benefit=task11.LIABILITY_INSURANCE_RULE["benefit"],
            effective_from=datetime.date(2022, 11, 10),
            effective_to=datetime.date(2024, 12, 31),
        )
        for i in range(n)
    )
    source = SourceFactory(key=f"{tag}-source")
    company_type = ContentType.objects.get_for_model(Company)
    Citation.objects.bulk_create(
        Citation(
            content_type=company_type,
            object_id=world.company.pk,
            source=source,
            excerpt=f"Excerpt {i}",
        )
        for i in range(n)
    )
    del projects
    # Production tables are autoanalysed; rows inserted inside the test's transaction are not,
    # and with "empty" statistics the planner nests loops over 1,000-row joins for minutes.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _days(i: int) -> datetime.timedelta:
    return datetime.timedelta(days=i)


def facet_counts(response, param: str) -> dict:
    """{option value: count} of one facet of a list page's response."""
    return {
        option.value: option.count
        for facet in response.context["filtered"].facets
        if facet.param == param
        for option in facet.options
    }
