"""OpenAPI schema and offline docs (Swagger UI and Redoc from drf-spectacular-sidecar)."""

from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class SchemaView(SpectacularAPIView):
    """The schema is public: it describes the API, not the data."""

    permission_classes = [AllowAny]
    authentication_classes: list = []


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI with its init script served from a URL, so the page needs no inline script."""

    permission_classes = [AllowAny]


@require_safe
def redoc(request):
    """Redoc from the vendored bundle (the stock template links web fonts; this page is offline)."""
    schema_url = escape(reverse("api-schema"))
    bundle = escape(static("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"))
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>CGT Portal API</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head><body>"
        f"<redoc spec-url='{schema_url}'></redoc><script src='{bundle}'></script></body></html>"
    )
    return HttpResponse(html)
