"""Pages of the top layer: home, search, subsidy calculator, policies, provisions, rules.

Also the company, facility and region detail pages: they show projects and policies beside
company data, so they are composed here (the top layer may read every app) and mounted under
the companies URL names by portal/urls.py.
"""

import datetime

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from companies import selectors as company_reads
from policies import pages, search
from policies.forms import ScenarioForm
from policies.services import (
    SubsidyScenarioError,
    subsidy_estimate_for_company,
    subsidy_estimate_for_scenario,
)
from portal.metrics.selectors import metrics_for
from portal.pages import attach_citations, list_view_response, page_number
from projects import selectors as project_reads


@require_GET
def home(request):
    return render(request, "policies/home.html", pages.home_page())


@require_GET
def search_page(request):
    results = search.search(
        request.GET.get("q"), kind=request.GET.get("kind"), page=page_number(request.GET)
    )
    return render(request, "policies/search.html", {"results": results})


@require_GET
def policy_list(request):
    return list_view_response(
        request,
        read=pages.policy_list,
        template="policies/policy_list.html",
        csv_columns=pages.POLICY_CSV_COLUMNS,
        csv_name="policies.csv",
    )


@require_GET
def policy_detail(request, slug):
    policy = pages.policy_profile(slug=slug)
    attach_citations([policy], policy.target_rows, policy.outgoing, policy.incoming)
    return render(request, "policies/policy_detail.html", {"policy": policy})


@require_GET
def provision_detail(request, slug, path):
    provision = pages.provision_profile(policy_slug=slug, path=path)
    attach_citations([provision], provision.rules)
    return render(request, "policies/provision_detail.html", {"provision": provision})


@require_GET
def subsidy_rule_list(request):
    return list_view_response(
        request,
        read=pages.subsidy_rule_list,
        template="policies/subsidy_rule_list.html",
        csv_columns=pages.SUBSIDY_RULE_CSV_COLUMNS,
        csv_name="subsidy-rules.csv",
    )


@require_GET
def subsidy_rule_detail(request, code):
    rule = pages.subsidy_rule_profile(code=code)
    attach_citations([rule])
    return render(request, "policies/subsidy_rule_detail.html", {"rule": rule})


@require_http_methods(["GET", "POST"])
def calculator(request):
    regions = pages.region_choices()
    form = ScenarioForm(request.POST or None, regions=regions)
    estimate = None
    if request.method == "POST" and form.is_valid():
        try:
            estimate = subsidy_estimate_for_scenario(data=form.to_scenario())
        except SubsidyScenarioError as error:
            form.add_scenario_errors(error.errors)
    context = {"form": form, "estimate": pages.present_estimate(estimate) if estimate else None}
    return render(request, "policies/calculator.html", context, status=200)


def stored_metrics(subject_type: str, subject_id: int) -> list:
    """The metrics engine's current figures for a subject, with their lineage (one query)."""
    return list(metrics_for(subject_type, subject_id).order_by("name", "dimensions_key")[:100])


# --- company, facility and region pages (mounted in the companies namespace) -------------


@require_GET
def company_detail(request, slug):
    company = company_reads.company_profile(slug=slug)
    facilities, facility_total = company_reads.company_facilities(company=company)
    projects, project_total = project_reads.company_projects(company=company)
    products, product_total = project_reads.company_products(company=company)
    figures = company_reads.reported_figures_for(company)
    attach_citations(
        [company], company.ownership_history, company.listing_rows, projects, products, figures
    )
    context = {
        "company": company,
        "facilities": facilities,
        "facility_total": facility_total,
        "projects": projects,
        "project_total": project_total,
        "products": products,
        "product_total": product_total,
        "figures": figures,
        "metrics": stored_metrics("company", company.pk),
        "computed_at": datetime.datetime.now(tz=datetime.UTC),
    }
    return render(request, "companies/company_detail.html", context)


@require_GET
def company_subsidies(request, slug):
    company = pages.company_for_estimate(slug=slug)
    year = pages.estimate_year(latest_event_year=company.latest_event_year)
    estimate = subsidy_estimate_for_company(company=company, year=year)
    return render(
        request,
        "companies/company_subsidies.html",
        {"company": company, "year": year, "estimate": pages.present_estimate(estimate)},
    )


@require_GET
def company_history(request, slug):
    company = company_reads.company_profile(slug=slug)
    changes = company_reads.change_history(company)  # profile: the tab header shows names
    return render(
        request, "companies/company_history.html", {"company": company, "changes": changes}
    )


@require_GET
def facility_detail(request, slug):
    facility = company_reads.facility_profile(slug=slug)
    projects, project_total = project_reads.facility_projects(facility=facility)
    provisions = pages.applicable_provisions(region=facility.region)
    attach_citations([facility], facility.timeline, projects)
    points = company_reads.facility_points([facility])
    context = {
        "facility": facility,
        "projects": projects,
        "project_total": project_total,
        "provisions": provisions,
        "points": points,
    }
    return render(request, "companies/facility_detail.html", context)


@require_GET
def region_detail(request, slug):
    region, ancestors = company_reads.region_profile(slug=slug)
    companies, company_total = company_reads.region_companies(region=region)
    facilities, facility_total = company_reads.region_facilities(region=region)
    figures = company_reads.reported_figures_for(region)
    attach_citations([region], figures)
    context = {
        "region": region,
        "ancestors": ancestors,
        "children": company_reads.region_children(region=region),
        "companies": companies,
        "company_total": company_total,
        "facilities": facilities,
        "facility_total": facility_total,
        "computed": company_reads.region_computed_metrics(region=region),
        "computed_at": datetime.datetime.now(tz=datetime.UTC),
        "metrics": stored_metrics("region", region.pk),
        "figures": figures,
        "policies": pages.policies_covering(region=region),
        "points": company_reads.facility_points(facilities),
    }
    return render(request, "companies/region_detail.html", context)
