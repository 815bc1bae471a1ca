"""Top-level URLs: pages, admin, API v1 and the health check."""

from django.contrib import admin
from django.urls import include, path

from companies.urls import urlpatterns as companies_patterns
from policies.urls import COMPANIES_DETAIL_PATTERNS
from portal.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    # Company, facility and region detail pages read projects and policies too, so their
    # views live in the top layer; they are composed into the companies namespace here.
    path("", include((companies_patterns + COMPANIES_DETAIL_PATTERNS, "companies"))),
    path("", include("projects.urls")),
    path("", include("policies.urls")),
]

# JSON errors under /api/, the ordinary pages elsewhere (portal.api.errors decides by path).
handler404 = "portal.api.errors.handler404"
handler500 = "portal.api.errors.handler500"
