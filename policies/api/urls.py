"""REST API v1 URLs of the policies app."""

from django.urls import path

from policies.api.views import (
    CompanySubsidyEstimateView,
    SubsidyEstimateView,
    policies,
    provisions,
    subsidy_rules,
    targets,
)
from portal.api.views import resource_urls

urlpatterns = [
    *resource_urls(policies),
    *resource_urls(provisions),
    *resource_urls(subsidy_rules),
    *resource_urls(targets),
    path("subsidy-estimates/", SubsidyEstimateView.as_view(), name="api-subsidy-estimates"),
    path(
        "companies/<slug:lookup>/subsidy-estimate/",
        CompanySubsidyEstimateView.as_view(),
        name="api-company-subsidy-estimate",
    ),
]
