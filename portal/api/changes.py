"""The change feed: every create, update and delete of API resources, safe to mirror.

Entries come from the audit log (`portal.models.Change`) in (transaction id, change id)
order, and only from transactions older than the oldest transaction still running against
this database (like `pg_snapshot_xmin`, see SAFE_HORIZON). That set can never grow behind
the cursor: a transaction that commits late always has a transaction id at or above the
horizon, so it is emitted after the cursor instead of being skipped (ordering by change id
alone would skip a late-committing lower id).

Created/updated entries carry the record's current representation (the same as the list
endpoint), so replaying the feed in order converges on the current state; deleted entries
carry the key only. Citation and many-to-many changes surface as updates of their record.
"""

import base64
import binascii
from collections import defaultdict

import orjson
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.expressions import RawSQL
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from portal.api.pagination import BIGINT_MAX, parse_page_size
from portal.api.resources import REGISTRY, Resource, UrlBuilder, render_rows, resource_for_model
from portal.api.views import ERRORS, ApiView
from portal.choices import ChangeAction
from portal.models import Change, Citation

# The oldest transaction still running *that could write to this database*: in-progress xids
# of sessions connected to other databases are skipped (they cannot add rows here, and on a
# shared server they would otherwise stall the feed); an xid whose session is not found is
# kept, so a transaction that commits while this runs still holds the horizon back.
SAFE_HORIZON = RawSQL(
    """(SELECT coalesce(min(x.id), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
          FROM (SELECT s::text::bigint AS id
                  FROM pg_snapshot_xip(pg_current_snapshot()) AS s
                 WHERE NOT EXISTS (
                       SELECT 1 FROM pg_stat_activity a
                        WHERE a.backend_xid = xid(s)
                          AND a.datname IS DISTINCT FROM current_database())) AS x)""",
    [],
)
CITATION_TABLE = Citation._meta.db_table


def encode_feed_cursor(transaction_id: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([transaction_id, change_id])).decode().rstrip("=")


def decode_feed_cursor(raw: str | None) -> tuple[int, int]:
    if not raw:
        return 0, 0
    try:
        if len(raw) > 200:
            raise ValueError
        value = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        transaction_id, change_id = value
        if not all(type(v) is int and 0 <= v <= BIGINT_MAX for v in value):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise ValidationError(
            {"since": ["Invalid cursor; use `next` from a previous response."]}
        ) from None
    return transaction_id, change_id


def _routes() -> dict[str, tuple[Resource, str | None]]:
    """Audited table → (resource, column naming the record); None = the row is the record."""
    routes: dict[str, tuple[Resource, str | None]] = {}
    for resource in REGISTRY.values():
        if not resource.versioned:
            continue
        routes[resource.table] = (resource, None)
        for many in resource.many:
            relation = resource.model._meta.get_field(many.field)
            through = relation.remote_field.through._meta.db_table
            routes[through] = (resource, f"{relation.m2m_field_name()}_id")
    return routes


def _citation_subjects(change) -> list[tuple[Resource, int]]:
    subjects = []
    for data in (change["new_data"], change["old_data"]):
        if not data:
            continue
        model = ContentType.objects.get_for_id(data["content_type_id"]).model_class()
        resource = resource_for_model(model)
        if resource is not None and (resource, data["object_id"]) not in subjects:
            subjects.append((resource, data["object_id"]))
    return subjects


def _entries(change, routes) -> list[tuple[Resource, int, str]]:
    table = change["table_name"]
    if table == CITATION_TABLE:
        return [(r, pk, ChangeAction.UPDATED) for r, pk in _citation_subjects(change)]
    resource, column = routes[table]
    if column is None:
        return [(resource, int(change["object_pk"]), change["action"])]
    data = change["new_data"] or change["old_data"]
    return [(resource, data[column], ChangeAction.UPDATED)]


class ChangeSerializer(serializers.Serializer):
    change = serializers.IntegerField(help_text="Audit-log id.")
    resource = serializers.CharField(help_text="API resource name, e.g. `companies`.")
    id = serializers.IntegerField()
    slug = serializers.CharField(allow_null=True, help_text="The record's public key.")
    action = serializers.ChoiceField(choices=ChangeAction.choices)
    occurred_at = serializers.DateTimeField()
    data = serializers.DictField(
        allow_null=True,
        help_text="Current representation (as in the list); null for deletes and for "
        "records deleted since.",
    )


class ChangePageSerializer(serializers.Serializer):
    next = serializers.URLField(help_text="Poll this URL for later changes.")
    more = serializers.BooleanField(help_text="More changes are available right now.")
    results = ChangeSerializer(many=True)


class ChangeFeedView(ApiView):
    @extend_schema(
        operation_id="changes_list",
        summary="Change feed",
        tags=["changes"],
        parameters=[
            OpenApiParameter("since", OpenApiTypes.STR, description="Cursor from `next`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1–1000, default 100."),
        ],
        responses={200: ChangePageSerializer, **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        transaction_id, change_id = decode_feed_cursor(request.query_params.get("since"))
        size = parse_page_size(request.query_params.get("page_size"))
        routes = _routes()
        changes = Change.objects.filter(
            table_name__in=[*routes, CITATION_TABLE], transaction_id__lt=SAFE_HORIZON
        )
        if transaction_id or change_id:
            changes = changes.filter(
                Q(transaction_id__gt=transaction_id)
                | Q(transaction_id=transaction_id, id__gt=change_id)
            )
        rows = list(
            changes.order_by("transaction_id", "id").values(
                "id",
                "transaction_id",
                "table_name",
                "object_pk",
                "action",
                "occurred_at",
                "old_data",
                "new_data",
            )[: size + 1]
        )
        more = len(rows) > size
        rows = rows[:size]
        planned = [(row, _entries(row, routes)) for row in rows]
        wanted: dict[str, set[int]] = defaultdict(set)
        for _row, entries in planned:
            for resource, pk, action in entries:
                if action != ChangeAction.DELETED:
                    wanted[resource.name].add(pk)
        urls = UrlBuilder(request)
        current: dict[tuple[str, int], dict] = {}
        for name, ids in wanted.items():
            resource = REGISTRY[name]
            values = resource.queryset().filter(pk__in=ids).values(*resource.value_fields())
            for item in render_rows(resource, list(values), urls):
                current[(name, item["id"])] = item
        results = []
        for row, entries in planned:
            for resource, pk, action in entries:
                item = current.get((resource.name, pk)) if action != ChangeAction.DELETED else None
                data = row["new_data"] or row["old_data"] or {}
                key = item[resource.lookup_field] if item else None
                if key is None and resource.table == row["table_name"]:
                    key = data.get(resource.lookup_field)
                results.append(
                    {
                        "change": row["id"],
                        "resource": resource.name,
                        "id": pk,
                        "slug": None if key is None else str(key),
                        "action": action,
                        "occurred_at": row["occurred_at"],
                        "data": item,
                    }
                )
        if rows:
            transaction_id, change_id = rows[-1]["transaction_id"], rows[-1]["id"]
        cursor = encode_feed_cursor(transaction_id, change_id)
        next_url = replace_query_param(request.build_absolute_uri(), "since", cursor)
        return Response({"next": next_url, "more": more, "results": results})
