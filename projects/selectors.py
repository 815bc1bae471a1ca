"""Selectors for the projects app."""

from projects.models import InvestmentProject, Product, RegulatoryMilestone


# API reads
# QuerySets for portal.api's fast list path (rows are fetched with .values(), so no joins
# are needed here; briefs of related records are joined by the resource declaration).


def project_api_list():
    return InvestmentProject.objects.all()


def product_api_list():
    return Product.objects.all()


def milestone_api_list():
    return RegulatoryMilestone.objects.all()
