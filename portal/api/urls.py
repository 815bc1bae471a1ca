"""REST API v1 root: each app contributes its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("companies.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("policies.api.urls")),
]
