"""Analyst page URLs of the policies layer (home, search, calculator, policies, rules).

COMPANIES_DETAIL_PATTERNS are the company, facility and region detail pages: portal/urls.py
adds them to the `companies` namespace (Company.get_absolute_url names
`companies:company-detail`), while their views live here because they read every app.
"""

from django.urls import path

from policies import views

app_name = "policies"
urlpatterns: list = [
    path("", views.home, name="home"),
    path("search/", views.search_page, name="search"),
    path("calculator/", views.calculator, name="calculator"),
    path("policies/", views.policy_list, name="policy-list"),
    path("policies/<slug:slug>/", views.policy_detail, name="policy-detail"),
    path(
        "policies/<slug:slug>/provisions/<str:path>/",
        views.provision_detail,
        name="provision-detail",
    ),
    path("subsidy-rules/", views.subsidy_rule_list, name="subsidy-rule-list"),
    path("subsidy-rules/<slug:code>/", views.subsidy_rule_detail, name="subsidy-rule-detail"),
]

COMPANIES_DETAIL_PATTERNS: list = [
    path("companies/<slug:slug>/", views.company_detail, name="company-detail"),
    path("companies/<slug:slug>/subsidies/", views.company_subsidies, name="company-subsidies"),
    path("companies/<slug:slug>/history/", views.company_history, name="company-history"),
    path("facilities/<slug:slug>/", views.facility_detail, name="facility-detail"),
    path("regions/<slug:slug>/", views.region_detail, name="region-detail"),
]
