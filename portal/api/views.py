"""Shared API views: the base view, the fast list path, details with writes, and routing."""

import csv
import re

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from portal.api import etags
from portal.api.authentication import ApiTokenAuthentication, StaffSessionAuthentication
from portal.api.pagination import (
    MAX_PAGE_SIZE,
    keyset_page,
    parse_ordering,
    parse_page_size,
)
from portal.api.permissions import ApiAccess
from portal.api.renderers import CSVRenderer, ORJSONRenderer, dumps
from portal.api.resources import (
    Resource,
    UrlBuilder,
    csv_cells,
    csv_header,
    render_rows,
)
from portal.api.schema import ErrorSerializer, item_and_page_serializers
from portal.api.throttling import TokenRateThrottle

CSV_CHUNK = 1000
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Invalid input (field messages in `error.fields`).",
        401: "Missing, invalid, expired or revoked token.",
        404: "Not found.",
        429: "Rate limit exceeded; see Retry-After.",
    }.items()
}
WRITE_ERRORS = {
    **ERRORS,
    **{
        code: OpenApiResponse(ErrorSerializer, description=text)
        for code, text in {
            403: "Staff with the model permission only.",
            409: "Conflicts with existing data.",
            412: "If-Match does not match the current version.",
            428: "If-Match is required.",
        }.items()
    },
}


class ApiView(GenericAPIView):
    """Base of every API view: auth, throttling, orjson, X-Data-Version, NUL-safe params."""

    authentication_classes = [ApiTokenAuthentication, StaffSessionAuthentication]
    permission_classes = [ApiAccess]
    throttle_classes = [TokenRateThrottle]
    renderer_classes = [ORJSONRenderer]
    parser_classes = [JSONParser]
    pagination_class = None
    filter_backends: list = []
    write_model = None
    # The fast views have no serializer for DRF's OPTIONS metadata; the OpenAPI schema
    # describes them instead, so OPTIONS is 405 rather than a 500 (found by the fuzzer).
    metadata_class = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        bad = [
            key[:40]
            for key, values in request.GET.lists()
            if "\x00" in key or any("\x00" in v for v in values)
        ]
        if bad:
            raise ValidationError({key: ["Must not contain NUL characters."] for key in bad})

    def data_state(self) -> tuple[int, int]:
        if not hasattr(self, "_data_state"):
            # Token authentication read it in its round trip; after a write (or for staff
            # sessions) it is read now, so the header shows the version the write made.
            state = getattr(self.request, "portal_data_state", None)
            if state is None or self.request.method not in ("GET", "HEAD"):
                state = etags.data_state()
            self._data_state = state
        return self._data_state

    def data_version(self) -> int:
        return self.data_state()[0]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(
            getattr(response, "accepted_renderer", None), CSVRenderer
        ):
            # An error is JSON even when the caller asked for CSV.
            response.accepted_renderer = ORJSONRenderer()
            response.accepted_media_type = ORJSONRenderer.media_type
        response["X-Data-Version"] = str(self.data_version())
        return response


def _csv_value(value):
    if value is None:
        return ""
    text = str(value)
    if FORMULA_START.match(text) and not NUMBER.match(text):
        return "'" + text  # keep spreadsheets from executing cell text as a formula
    return text


class _Echo:
    def write(self, value):
        return value


class ResourceListView(ApiView):
    """Fast list path: filtered QuerySet → keyset page of `.values()` → orjson; no serializers."""

    resource: Resource
    filter_backends = [DjangoFilterBackend]
    renderer_classes = [ORJSONRenderer, CSVRenderer]

    def get_queryset(self):
        # Schema generation needs only the model; the real queryset may query content types,
        # which do not exist yet on an unmigrated database (e.g. `check --deploy` in CI).
        if getattr(self, "swagger_fake_view", False):
            return self.resource.model.objects.none()
        return self.resource.queryset()

    @property
    def write_model(self):
        return self.resource.model

    def page_cache_key(self) -> str | None:
        """Where this request's page is cached (JSON pages of audited resources), or None.

        The throttle reads this key in its own Redis round trip (`prefetched_page`)."""
        if not hasattr(self, "_page_cache_key"):
            key = None
            request = self.request
            if (
                self.resource.versioned
                and request.method in ("GET", "HEAD")
                and request.accepted_renderer.format == "json"
            ):
                key = etags.page_cache_key(self.data_state(), request)
            self._page_cache_key = key
        return self._page_cache_key

    def get(self, request, *args, **kwargs):
        resource = self.resource
        version = self.data_version()
        if not resource.versioned:
            # Derived rows (metrics) move on a recompute, which writes no audit-log row.
            version = f"{version}.{etags.derived_data_head()}"
        etag = etags.list_etag(version, request)
        if etags.not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        # Pages of audited (versioned) resources are cached under the data version: any
        # committed change of curated data moves every key, so a hit is the current page.
        cache_key = self.page_cache_key()
        if cache_key is not None:
            body = etags.cached_page(cache_key, getattr(self, "prefetched_page", None))
            if body is not None:
                return HttpResponse(body, content_type="application/json", headers={"ETag": etag})
        params = request.query_params
        ordering = parse_ordering(
            params.get("ordering"), resource.orderings, resource.default_ordering
        )
        queryset = self.filter_queryset(self.get_queryset())
        if request.accepted_renderer.format == "csv":
            return self._stream_csv(queryset, ordering)
        page = keyset_page(
            queryset,
            ordering,
            resource.value_fields(),
            parse_page_size(params.get("page_size")),
            params.get("cursor"),
        )
        urls = UrlBuilder(request)
        next_url = None
        if page.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        body = dumps({"next": next_url, "results": render_rows(resource, page.rows, urls)})
        if cache_key is not None:
            etags.store_page(cache_key, body)
        return HttpResponse(body, content_type="application/json", headers={"ETag": etag})

    def _stream_csv(self, queryset, ordering):
        resource = self.resource
        urls = UrlBuilder(self.request)
        fields = resource.value_fields()
        # Validate any cursor now, so a bad one is a 400 rather than a broken stream.
        first = keyset_page(queryset, ordering, fields, CSV_CHUNK, self.request.GET.get("cursor"))

        def rows():
            writer = csv.writer(_Echo())
            yield writer.writerow(csv_header(resource))
            page = first
            while True:
                for item in render_rows(resource, page.rows, urls):
                    yield writer.writerow([_csv_value(v) for v in csv_cells(item, resource)])
                if not page.next_cursor:
                    return
                page = keyset_page(queryset, ordering, fields, CSV_CHUNK, page.next_cursor)

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{resource.name}.csv"'
        return response

    def post(self, request, *args, **kwargs):
        writes = self.resource.writes
        serializer = writes.serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = writes.create(actor=request.user, data=serializer.validated_data)
        response = _detail_response(self.resource, request, instance.pk)
        response.status_code = status.HTTP_201_CREATED
        response["Location"] = response.data["url"]
        return response


def _render_one(resource: Resource, request, **lookup) -> dict:
    queryset = resource.queryset().filter(**lookup)
    rows = list(queryset.values(*resource.value_fields())[:1])
    if not rows:
        raise NotFound(f"No {resource.model._meta.verbose_name} with that key.")
    return render_rows(resource, rows, UrlBuilder(request))[0]


def _detail_response(resource: Resource, request, pk) -> Response:
    item = _render_one(resource, request, pk=pk)
    response = Response(item)
    if resource.versioned:
        response["ETag"] = etags.detail_etag(item["version"], dumps(item))
    return response


class ResourceDetailView(ApiView):
    """One record in the list representation; PATCH/DELETE through the entity services."""

    resource: Resource

    def get_queryset(self):
        # Schema generation needs only the model; the real queryset may query content types,
        # which do not exist yet on an unmigrated database (e.g. `check --deploy` in CI).
        if getattr(self, "swagger_fake_view", False):
            return self.resource.model.objects.none()
        return self.resource.queryset()

    @property
    def write_model(self):
        return self.resource.model

    def _lookup(self) -> dict:
        return {self.resource.lookup_field: self.kwargs["lookup"]}

    def get(self, request, *args, **kwargs):
        item = _render_one(self.resource, request, **self._lookup())
        headers = {}
        if self.resource.versioned:
            etag = etags.detail_etag(item["version"], dumps(item))
            if etags.not_modified(request, etag):
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
            headers["ETag"] = etag
        return Response(item, headers=headers)

    def _instance(self):
        instance = self.resource.model.objects.filter(**self._lookup()).first()
        if instance is None:
            raise NotFound(f"No {self.resource.model._meta.verbose_name} with that key.")
        return instance

    def patch(self, request, *args, **kwargs):
        writes = self.resource.writes
        instance = self._instance()
        version = etags.expected_version(request)
        if version != instance.version:
            raise etags.PreconditionFailed()
        serializer = writes.serializer(instance=instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        writes.update(
            instance, actor=request.user, expected_version=version, data=serializer.validated_data
        )
        return _detail_response(self.resource, request, instance.pk)

    def delete(self, request, *args, **kwargs):
        instance = self._instance()
        version = etags.expected_version(request)
        if version != instance.version:
            raise etags.PreconditionFailed()
        self.resource.writes.delete(instance, actor=request.user, expected_version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _list_parameters(resource: Resource) -> list[OpenApiParameter]:
    orderings = sorted(resource.orderings)
    return [
        OpenApiParameter(
            "ordering",
            OpenApiTypes.STR,
            enum=[*orderings, *(f"-{o}" for o in orderings)],
            description=f"Sort order (default `{resource.default_ordering}`); ties by id.",
        ),
        OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque cursor from `next`."),
        OpenApiParameter(
            "page_size", OpenApiTypes.INT, description=f"Rows per page, 1–{MAX_PAGE_SIZE}."
        ),
        OpenApiParameter(
            "format",
            OpenApiTypes.STR,
            enum=["json", "csv"],
            description="`csv` streams every matching row as CSV with a header row.",
        ),
    ]


def _own(func):
    """A per-class copy of an inherited handler, so its schema annotations stay its own."""

    def handler(self, request, *args, **kwargs):
        return func(self, request, *args, **kwargs)

    handler.__name__ = func.__name__
    return handler


def resource_urls(resource: Resource) -> list:
    """List and detail routes (`api-<name>-list`, `api-<name>-detail`) of a resource."""
    item, page = item_and_page_serializers(resource)
    writes = resource.writes
    tag = resource.name
    noun = resource.model._meta.verbose_name
    converter = resource.lookup_converter
    lookup = OpenApiParameter(
        "lookup",
        OpenApiTypes.INT if converter == "int" else OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description=f"The {noun}'s {resource.lookup_field}.",
    )
    if_match = OpenApiParameter(
        "If-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="The ETag you read; a stale one gives 412.",
    )
    list_methods = ["get", "head", "options"]
    detail_methods = ["get", "head", "options"]
    attrs = {"resource": resource, "filterset_class": resource.filterset_class}
    list_view = type(f"{resource.model.__name__}ListView", (ResourceListView,), dict(attrs))
    detail_view = type(f"{resource.model.__name__}DetailView", (ResourceDetailView,), dict(attrs))
    list_view.get = extend_schema(
        operation_id=f"{tag}_list",
        summary=f"List {resource.model._meta.verbose_name_plural}",
        description=resource.description,
        tags=[tag],
        parameters=_list_parameters(resource),
        filters=True,  # a page object, not a bare list: force filter parameter discovery
        responses={
            (200, "application/json"): page,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV export"),
            **ERRORS,
        },
    )(_own(list_view.get))
    detail_view.get = extend_schema(
        operation_id=f"{tag}_retrieve",
        summary=f"One {noun}",
        tags=[tag],
        parameters=[lookup],
        responses={200: item, **ERRORS},
    )(_own(detail_view.get))
    if writes and writes.create:
        list_methods.append("post")
        list_view.post = extend_schema(
            operation_id=f"{tag}_create",
            summary=f"Create a {noun} (staff)",
            tags=[tag],
            request=writes.serializer,
            responses={201: item, **WRITE_ERRORS},
        )(_own(list_view.post))
    if writes and writes.update:
        detail_methods.append("patch")
        detail_view.patch = extend_schema(
            operation_id=f"{tag}_partial_update",
            summary=f"Change a {noun} (staff; If-Match required)",
            tags=[tag],
            request=writes.serializer,
            parameters=[lookup, if_match],
            responses={200: item, **WRITE_ERRORS},
        )(_own(detail_view.patch))
    if writes and writes.delete:
        detail_methods.append("delete")
        detail_view.delete = extend_schema(
            operation_id=f"{tag}_destroy",
            summary=f"Delete a {noun} (staff; If-Match required)",
            tags=[tag],
            parameters=[lookup, if_match],
            responses={204: None, **WRITE_ERRORS},
        )(_own(detail_view.delete))
    list_view.http_method_names = list_methods
    detail_view.http_method_names = detail_methods
    return [
        path(f"{resource.name}/", list_view.as_view(), name=f"api-{resource.name}-list"),
        path(
            f"{resource.name}/<{converter}:lookup>/",
            detail_view.as_view(),
            name=f"api-{resource.name}-detail",
        ),
    ]
