"""REST API v1 root: the shared core's routes, then each app contributes its own."""

from django.urls import include, path

from portal.api import core
from portal.api.changes import ChangeFeedView
from portal.api.docs import SchemaView, SwaggerView, redoc
from portal.api.views import resource_urls

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("docs/redoc/", redoc, name="api-redoc"),
    path("changes/", ChangeFeedView.as_view(), name="api-changes"),
    *(route for resource in core.ALL for route in resource_urls(resource)),
    path("", include("companies.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("policies.api.urls")),
]
