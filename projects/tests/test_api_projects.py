"""Projects, products and milestones API: shared resource behaviour plus specifics."""

import datetime
from decimal import Decimal

from projects.models import InvestmentProject, Product, RegulatoryMilestone
from tests.api_mixins import CitedResourceTests, ResourceApiTests, assert_error
from tests.factories import (
    CompanyFactory,
    OwnershipPeriodFactory,
    ProductFactory,
    RegionFactory,
    RegulatoryMilestoneFactory,
)
from tests.factories import InvestmentProjectFactory as ProjectFactory


class TestProjectsApi(CitedResourceTests, ResourceApiTests):
    endpoint = "projects"
    model = InvestmentProject
    orderings = {
        "announced_on": lambda i: i["announced_on"],
        "amount": lambda i: Decimal(i["amount"]),
        "title": lambda i: i["title"],
    }

    def make(self, **kwargs):
        return ProjectFactory(**kwargs)

    def bulk(self, count):
        company, region = CompanyFactory(), RegionFactory()
        built = ProjectFactory.build_batch(count, company=company, region=region)
        for index, project in enumerate(built):
            project.amount = Decimal(1000 + index * 7 % 13)
            project.announced_on = datetime.date(2020, 1, 1) + datetime.timedelta(days=index % 50)
        return InvestmentProject.objects.bulk_create(built)

    def filter_cases(self):
        shanghai = RegionFactory(slug="shanghai")
        pudong = RegionFactory(slug="pudong", parent=shanghai)
        foreign = CompanyFactory(modalities=["car_t"])
        OwnershipPeriodFactory(company=foreign, ownership_type="foreign_invested")
        domestic = CompanyFactory(modalities=["vaccine"])
        big = ProjectFactory(
            company=foreign,
            region=pudong,
            amount=Decimal("500000000"),
            currency="CNY",
            announced_on=datetime.date(2023, 6, 1),
            status="operational",
            kind="expansion",
            title="Pudong CAR-T expansion",
        )
        small = ProjectFactory(
            company=domestic,
            amount=Decimal("1000"),
            currency="USD",
            amount_kind="commitment",
            announced_on=datetime.date(2021, 1, 1),
        )
        return {
            "region": ("shanghai", big, small),
            "company": (foreign.slug, big, small),
            "ownership": ("foreign_invested", big, small),
            "modality": ("cell_therapy", big, small),
            "status": ("operational", big, small),
            "kind": ("expansion", big, small),
            "announced_after": ("2022-01-01", big, small),
            "announced_before": ("2022-01-01", small, big),
            "amount_min": ({"amount_min": "1000000", "currency": "CNY"}, big, small),
            "amount_max": ({"amount_max": "5000", "currency": "USD"}, small, big),
            "amount_kind": ("commitment", small, big),
            "currency": ("USD", small, big),
            "q": ("expansion", big, small),
        }

    def test_money_is_a_decimal_string_with_currency(self, client):
        project = ProjectFactory(amount=Decimal("123456789012345678.90"), currency="EUR")
        item = client.get(self.detail_url(project)).json()
        assert (item["amount"], item["currency"]) == ("123456789012345678.90", "EUR")

    def test_amount_bounds_need_a_currency_and_reject_huge_numbers(self, client):
        assert_error(client.get(self.list_url(), {"amount_min": "10"}), 400, "currency")
        huge = {"amount_min": "1e999999", "currency": "CNY"}
        assert_error(client.get(self.list_url(), huge), 400, "amount_min")
        assert_error(client.get(self.list_url(), {"announced_after": "2023-02-30"}), 400)

    def test_partners_are_briefs(self, client):
        project = ProjectFactory()
        partner = CompanyFactory(name_en="Partner Co")
        project.partners.add(partner)
        item = client.get(self.detail_url(project)).json()
        assert [p["slug"] for p in item["partners"]] == [partner.slug]


class TestProductsApi(CitedResourceTests, ResourceApiTests):
    endpoint = "products"
    model = Product
    orderings = {"name": lambda i: i["name"]}

    def make(self, **kwargs):
        return ProductFactory(**kwargs)

    def bulk(self, count):
        company = CompanyFactory()
        return Product.objects.bulk_create(ProductFactory.build_batch(count, company=company))

    def filter_cases(self):
        region = RegionFactory(slug="minhang")
        mine = ProductFactory(
            company=CompanyFactory(registered_region=region),
            modality="car_t",
            targets=["CD19"],
            name="Relma-cel",
        )
        other = ProductFactory(modality="vaccine", targets=["HPV"])
        return {
            "company": (mine.company.slug, mine, other),
            "modality": ("cell_therapy", mine, other),
            "region": ("minhang", mine, other),
            "target": ("CD19", mine, other),
            "q": ("relma", mine, other),
        }


class TestMilestonesApi(CitedResourceTests, ResourceApiTests):
    endpoint = "milestones"
    model = RegulatoryMilestone
    orderings = {"date": lambda i: i["date"]}

    def make(self, **kwargs):
        return RegulatoryMilestoneFactory(**kwargs)

    def bulk(self, count):
        product, region = ProductFactory(), RegionFactory()
        built = RegulatoryMilestoneFactory.build_batch(count, product=product, region=region)
        for index, milestone in enumerate(built):
            milestone.date = datetime.date(2020, 1, 1) + datetime.timedelta(days=index % 90)
        return RegulatoryMilestone.objects.bulk_create(built)

    def filter_cases(self):
        approval = RegulatoryMilestoneFactory(
            kind="market_authorization",
            date=datetime.date(2023, 5, 10),
            product=ProductFactory(modality="car_t"),
        )
        other = RegulatoryMilestoneFactory(
            date=datetime.date(2019, 1, 1), product=ProductFactory(modality="vaccine")
        )
        return {
            "kind": ("market_authorization", approval, other),
            "product": (approval.product.slug, approval, other),
            "company": (approval.product.company.slug, approval, other),
            "modality": ("cell_therapy", approval, other),
            "region": (approval.region.slug, approval, other),
            "date_after": ("2023-01-01", approval, other),
            "date_before": ("2020-01-01", other, approval),
        }

    def test_company_brief_comes_through_the_product(self, client):
        milestone = self.make()
        item = client.get(self.detail_url(milestone)).json()
        assert item["company"]["slug"] == milestone.product.company.slug
        assert item["product"]["url"].endswith(f"/api/v1/products/{milestone.product.slug}/")
