"""Input serializers of the companies API (writes); list/detail output is built by portal.api."""

from rest_framework import serializers

from companies.models import Company, Facility
from portal.models import Region


class CompanyWriteSerializer(serializers.ModelSerializer):
    registered_region = serializers.SlugRelatedField(
        slug_field="slug", queryset=Region.objects.all(), allow_null=True, required=False
    )
    parent = serializers.SlugRelatedField(
        slug_field="slug", queryset=Company.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Company
        fields = [
            "slug",
            "kind",
            "name_en",
            "name_zh",
            "name_zh_provenance",
            "description",
            "headquarters_country",
            "parent",
            "modalities",
            "registered_region",
            "website",
        ]


class FacilityWriteSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", queryset=Company.objects.all())
    region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all())

    class Meta:
        model = Facility
        fields = [
            "slug",
            "company",
            "name_en",
            "name_zh",
            "kind",
            "modalities",
            "region",
            "status",
            "status_since",
            "capacity_notes",
            "latitude",
            "longitude",
        ]
