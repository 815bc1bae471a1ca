"""Input serializers of the projects API (writes)."""

from rest_framework import serializers

from companies.models import Company, Facility
from portal.models import Region
from projects.models import InvestmentProject


class ProjectWriteSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", queryset=Company.objects.all())
    facility = serializers.SlugRelatedField(
        slug_field="slug", queryset=Facility.objects.all(), allow_null=True, required=False
    )
    region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all())
    partners = serializers.SlugRelatedField(
        slug_field="slug", queryset=Company.objects.all(), many=True, required=False
    )

    class Meta:
        model = InvestmentProject
        fields = [
            "slug",
            "company",
            "facility",
            "title",
            "kind",
            "amount",
            "currency",
            "amount_kind",
            "announced_on",
            "announced_on_precision",
            "region",
            "partners",
            "status",
            "status_since",
        ]
