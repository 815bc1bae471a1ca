"""Analyst list pages of the companies app: companies, facilities, regions.

Detail pages of these records draw on projects and policies too, so they live in the top
layer (policies/views.py) and are mounted under this app's URL names by portal/urls.py.
"""

from django.views.decorators.http import require_GET

from companies import selectors
from portal.pages import list_view_response


@require_GET
def company_list(request):
    return list_view_response(
        request,
        read=selectors.company_list,
        template="companies/company_list.html",
        csv_columns=selectors.COMPANY_CSV_COLUMNS,
        csv_name="companies.csv",
        cache_params=selectors.COMPANY_LIST_PARAMS,
    )


@require_GET
def facility_list(request):
    return list_view_response(
        request,
        read=selectors.facility_list,
        template="companies/facility_list.html",
        csv_columns=selectors.FACILITY_CSV_COLUMNS,
        csv_name="facilities.csv",
    )


@require_GET
def facility_map(request):
    """All filtered facilities as map markers (the list page shows only one page of rows)."""
    from django.shortcuts import render

    filtered = selectors.facility_list(params=request.GET)
    return render(
        request,
        "companies/facility_map.html",
        {
            "filtered": filtered,
            "points": selectors.facility_map_points(filtered),
            "querystring": request.GET.urlencode(),
        },
    )


@require_GET
def region_list(request):
    return list_view_response(
        request,
        read=selectors.region_list,
        template="companies/region_list.html",
        csv_columns=selectors.REGION_CSV_COLUMNS,
        csv_name="regions.csv",
        page_size=100,
    )
