"""Analyst page URLs of the companies app.

The detail pages (company, facility, region) are added to this namespace by portal/urls.py
from policies.urls.COMPANIES_DETAIL_PATTERNS, because they show projects and policies too.
"""

from django.urls import path

from companies import views

app_name = "companies"
urlpatterns: list = [
    path("companies/", views.company_list, name="company-list"),
    path("facilities/", views.facility_list, name="facility-list"),
    path("facilities/map/", views.facility_map, name="facility-map"),
    path("regions/", views.region_list, name="region-list"),
]
