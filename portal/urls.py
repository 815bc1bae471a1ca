"""Top-level URLs: pages, admin, API v1 and the health check."""

from django.contrib import admin
from django.urls import include, path

from portal.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("", include("companies.urls")),
    path("", include("projects.urls")),
    path("", include("policies.urls")),
]
