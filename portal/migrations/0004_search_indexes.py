"""Search indexes: GIN over the weighted search vectors, GIN trigram over names.

The vectors are frozen copies of policies.search.search_vector(fields) for each kind; the
expressions must stay identical for the planner to use them (policies/tests/test_search.py
checks with EXPLAIN). Built with schema_editor.add_index so Django compiles the expression
exactly as it compiles the query; the indexes are not part of model state because the
models do not search themselves (the search page in policies does).
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector
from django.db import migrations

SEARCH_CONFIG = "simple"

# (app label, model, index prefix, weighted fields, trigram fields)
TABLES = [
    ("portal", "Region", "region", [("name_en", "A"), ("name_zh", "A")], ["name_en", "name_zh"]),
    (
        "portal",
        "Authority",
        "authority",
        [("name_en", "A"), ("name_zh", "A"), ("abbreviation", "B")],
        ["name_en", "name_zh"],
    ),
]


def _vector(weighted_fields):
    vector = None
    for name, weight in weighted_fields:
        part = SearchVector(name, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector


def _indexes(prefix, weighted_fields, trigram_fields):
    yield GinIndex(_vector(weighted_fields), name=f"{prefix}_search_gin")
    for name in trigram_fields:
        yield GinIndex(OpClass(name, name="gin_trgm_ops"), name=f"{prefix}_{name}_trgm")


def create(apps, schema_editor):
    for app_label, model_name, prefix, weighted, trigram in TABLES:
        model = apps.get_model(app_label, model_name)
        for index in _indexes(prefix, weighted, trigram):
            schema_editor.add_index(model, index)


def drop(apps, schema_editor):
    for app_label, model_name, prefix, weighted, trigram in TABLES:
        model = apps.get_model(app_label, model_name)
        for index in _indexes(prefix, weighted, trigram):
            schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_metrics")]

    operations = [migrations.RunPython(create, drop)]
