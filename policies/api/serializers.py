"""Input serializers of the policies API, and documentation shapes of subsidy estimates."""

from rest_framework import serializers

from policies.models import Policy
from portal.models import Authority, Region


class PolicyWriteSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all())
    issuing_authorities = serializers.SlugRelatedField(
        slug_field="slug", queryset=Authority.objects.all(), many=True, required=False
    )

    class Meta:
        model = Policy
        fields = [
            "slug",
            "title_en",
            "title_zh",
            "title_zh_provenance",
            "document_number",
            "kind",
            "issuing_authorities",
            "jurisdiction",
            "published_on",
            "effective_from",
            "expires_on",
            "repealed_on",
            "summary",
        ]


class ScenarioCompanySerializer(serializers.Serializer):
    registered_region = serializers.CharField(allow_null=True, required=False)
    ownership = serializers.CharField(allow_null=True, required=False)
    modalities = serializers.ListField(child=serializers.CharField(), required=False)


class ScenarioEventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    date = serializers.DateField()
    product = serializers.CharField(allow_null=True, required=False)
    modality = serializers.CharField(allow_null=True, required=False)
    commercialized_in = serializers.CharField(allow_null=True, required=False)
    located_in = serializers.CharField(allow_null=True, required=False)
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, allow_null=True, required=False
    )
    currency = serializers.CharField(allow_null=True, required=False)
    reference = serializers.CharField(allow_null=True, required=False)


class ScenarioSerializer(serializers.Serializer):
    """Documentation of the scenario JSON (docs/subsidy-rules.md); parsed by the engine."""

    as_of = serializers.DateField()
    company = ScenarioCompanySerializer()
    events = ScenarioEventSerializer(many=True)


class EstimateResultSerializer(serializers.Serializer):
    rule = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="eligible, capped, eligible_zero, ineligible…")
    currency = serializers.CharField()
    reasons = serializers.ListField(child=serializers.DictField())
    amount_before_caps = serializers.DecimalField(max_digits=20, decimal_places=2)
    amount_after_caps = serializers.DecimalField(max_digits=20, decimal_places=2)
    by_year = serializers.DictField(child=serializers.DictField())
    items = serializers.ListField(child=serializers.DictField())
    trace = serializers.DictField(help_text="conditions, caps and the provision citation.")


class EstimateSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField(allow_null=True)
    total = serializers.DecimalField(max_digits=20, decimal_places=2)
    by_year = serializers.DictField(child=serializers.CharField())
    results = EstimateResultSerializer(many=True)
