"""API resources of the projects app: investment projects, products, regulatory milestones."""

from portal.api.resources import Brief, ManyBrief, Resource, Writes, register
from projects import selectors, services
from projects.api.serializers import ProjectWriteSerializer
from projects.filtersets import MilestoneFilterSet, ProductFilterSet, ProjectFilterSet
from projects.models import InvestmentProject, Product, RegulatoryMilestone

projects = register(
    Resource(
        name="projects",
        model=InvestmentProject,
        selector=selectors.project_api_list,
        fields=(
            "title",
            "kind",
            "amount",
            "currency",
            "amount_kind",
            "announced_on",
            "announced_on_precision",
            "status",
            "status_since",
        ),
        briefs=(
            Brief("company", "companies"),
            Brief("facility", "facilities"),
            Brief("region", "regions"),
        ),
        many=(ManyBrief("partners", "companies"),),
        name_field="title",
        filterset_class=ProjectFilterSet,
        orderings={
            "announced_on": ("announced_on",),
            "amount": ("amount",),
            "title": ("title",),
        },
        default_ordering="-announced_on",
        writes=Writes(
            serializer=ProjectWriteSerializer,
            create=services.investment_project_create,
            update=lambda project, **kw: services.investment_project_update(project=project, **kw),
            delete=lambda project, **kw: services.investment_project_delete(project=project, **kw),
        ),
        description="Announced investments. `amount` is a decimal string with an ISO 4217 "
        "`currency` and an `amount_kind`; amounts of different kinds or currencies are never "
        "comparable, so amount filters require `currency`.",
    )
)

products = register(
    Resource(
        name="products",
        model=Product,
        selector=selectors.product_api_list,
        fields=("name", "name_zh", "modality", "targets", "indications"),
        briefs=(Brief("company", "companies"),),
        name_field="name",
        filterset_class=ProductFilterSet,
        orderings={"name": ("name",)},
        default_ordering="name",
        description="Therapy products and candidates.",
    )
)

milestones = register(
    Resource(
        name="milestones",
        model=RegulatoryMilestone,
        selector=selectors.milestone_api_list,
        fields=("kind", "date", "date_precision", "note"),
        briefs=(
            Brief("product", "products", name="name"),
            Brief("product__company", "companies", out="company"),
            Brief("authority", "authorities"),
            Brief("region", "regions"),
        ),
        name_field="slug",
        filterset_class=MilestoneFilterSet,
        orderings={"date": ("date",)},
        default_ordering="-date",
        description="Regulatory events of products (approvals, filings, launches).",
    )
)
