"""The OpenAPI schema generates and validates without a single warning."""

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for resource in (
        "companies",
        "facilities",
        "regions",
        "projects",
        "products",
        "milestones",
        "policies",
        "provisions",
        "subsidy-rules",
        "targets",
        "reported-figures",
        "sources",
        "metrics",
    ):
        assert f"/api/v1/{resource}/" in paths and f"/api/v1/{resource}/{{lookup}}/" in paths
    listing = paths["/api/v1/projects/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"cursor", "page_size", "ordering", "amount_min", "currency", "region"} <= names
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/InvestmentProjectPage")
    assert "/api/v1/subsidy-estimates/" in paths and "/api/v1/changes/" in paths
    assert "bearerAuth" in schema["components"]["securitySchemes"]
