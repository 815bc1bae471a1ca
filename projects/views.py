"""Analyst pages of the projects app: investment projects, products, regulatory milestones."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.pages import attach_citations, list_view_response
from projects import selectors


@require_GET
def project_list(request):
    return list_view_response(
        request,
        read=selectors.project_list,
        template="projects/project_list.html",
        csv_columns=selectors.PROJECT_CSV_COLUMNS,
        csv_name="investment-projects.csv",
    )


@require_GET
def project_detail(request, slug):
    project = selectors.project_profile(slug=slug)
    attach_citations([project], project.timeline)
    return render(request, "projects/project_detail.html", {"project": project})


@require_GET
def product_list(request):
    return list_view_response(
        request,
        read=selectors.product_list,
        template="projects/product_list.html",
        csv_columns=selectors.PRODUCT_CSV_COLUMNS,
        csv_name="products.csv",
    )


@require_GET
def product_detail(request, slug):
    product = selectors.product_profile(slug=slug)
    attach_citations([product], product.milestone_list)
    return render(request, "projects/product_detail.html", {"product": product})


@require_GET
def milestone_list(request):
    return list_view_response(
        request,
        read=selectors.milestone_list,
        template="projects/milestone_list.html",
        csv_columns=selectors.MILESTONE_CSV_COLUMNS,
        csv_name="milestones.csv",
    )


@require_GET
def milestone_detail(request, slug):
    milestone = selectors.milestone_profile(slug=slug)
    attach_citations([milestone])
    return render(request, "projects/milestone_detail.html", {"milestone": milestone})
