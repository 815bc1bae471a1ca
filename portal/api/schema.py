"""Documentation-only serializers: the OpenAPI shapes of what the fast paths render."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

from portal.api.resources import Resource
from portal.choices import VerificationState


class SourceBriefSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    url = serializers.URLField(allow_null=True)


class CitationSerializer(serializers.Serializer):
    source = SourceBriefSerializer()
    excerpt = serializers.CharField(help_text="Verbatim excerpt of the source.")
    field = serializers.CharField(allow_null=True, help_text="The cited field; null = record.")
    verification = serializers.ChoiceField(choices=VerificationState.choices)
    checked_on = serializers.DateField()


class BriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField(help_text="The record's public key (slug, code or path).")
    name = serializers.CharField()
    url = serializers.URLField(allow_null=True)


class SubjectBriefSerializer(BriefSerializer):
    type = serializers.CharField(allow_null=True, help_text="API resource name of the subject.")


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_cache: dict[str, tuple[type, type]] = {}


def item_and_page_serializers(resource: Resource) -> tuple[type, type]:
    """A ModelSerializer describing one rendered row, and the cursor page wrapping it."""
    if resource.name in _cache:
        return _cache[resource.name]
    model = resource.model
    declared: dict = {}
    model_fields = ["id"]
    if resource.lookup_field != "id":
        model_fields.append(resource.lookup_field)
    for name, _path in resource.field_pairs:
        if name in resource.schema_fields:
            declared[name] = resource.schema_fields[name]
        else:
            model_fields.append(name)
    for brief in resource.briefs:
        declared[brief.output] = BriefSerializer(allow_null=True)
    for many in resource.many:
        declared[many.field] = BriefSerializer(many=True)
    if resource.generic:
        declared[resource.generic.out] = SubjectBriefSerializer(allow_null=True)
    if resource.versioned:
        declared["version"] = serializers.IntegerField(help_text="Optimistic-lock version.")
    declared["url"] = serializers.URLField()
    if resource.cites:
        declared["citations"] = CitationSerializer(many=True)
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": [*model_fields, *declared],
            "read_only_fields": [*model_fields, *declared],
        },
    )
    item = type(
        f"{model.__name__}Serializer", (serializers.ModelSerializer,), {**declared, "Meta": meta}
    )
    page = type(
        f"{model.__name__}PageSerializer",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(
                allow_null=True, help_text="The next page (opaque cursor); null on the last page."
            ),
            "results": item(many=True),
        },
    )
    _cache[resource.name] = (item, page)
    return item, page


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>` (also `Token <token>`); "
            "issue with `manage.py issue_token USERNAME`.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
