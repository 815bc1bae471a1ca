"""Loading fixtures/curated/subsidy_rules.yaml: content, citations, idempotency."""

import re

import pytest
import yaml

from policies.engine import parse_cap_group, parse_rule
from policies.engine.task11 import ANNUAL_ENTITY_CAP, LIABILITY_INSURANCE_RULE, PRODUCT_SUPPORT_RULE
from policies.models import SubsidyCapGroup, SubsidyRule
from policies.selectors import subsidy_rules_for_engine
from policies.subsidy_loading import SubsidyLoadError, load_subsidy_rules
from policies.tests.subsidy_support import (
    RULES_YAML,
    SOURCE_FILE,
    make_action_plan,
    make_regions,
)
from portal.models import Change, Citation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_yaml_citation_is_verbatim_from_the_source_file():
    source = _normalise(SOURCE_FILE.read_text("utf-8"))
    document = yaml.safe_load(RULES_YAML.read_text("utf-8"))
    entries = document["cap_groups"] + document["rules"]
    excerpts = [c["excerpt"] for entry in entries for c in entry["citations"]]
    excerpts += [rule["provision_excerpt"] for rule in document["rules"]]
    assert len(excerpts) == 5
    for excerpt in excerpts:
        assert _normalise(excerpt) in source


def test_loaded_rules_are_the_canonical_task_11_rules():
    make_action_plan(make_regions())
    stats = {}
    load_subsidy_rules(path=RULES_YAML, actor=None, stats=stats)
    assert stats == {
        "subsidy_cap_group.created": 1,
        "subsidy_rule.created": 2,
        "citation.created": 3,
    }
    rules, groups = subsidy_rules_for_engine()
    assert groups == (parse_cap_group(ANNUAL_ENTITY_CAP),)
    # Same engine rule as docs/subsidy-rules.md, citation included (source from the DB).
    assert rules == (parse_rule(LIABILITY_INSURANCE_RULE), parse_rule(PRODUCT_SUPPORT_RULE))


def test_second_load_changes_nothing():
    make_action_plan(make_regions())
    actor = UserFactory()
    load_subsidy_rules(path=RULES_YAML, actor=actor)
    changes = Change.objects.count()
    versions = list(SubsidyRule.objects.values_list("code", "version"))
    stats = {}

    load_subsidy_rules(path=RULES_YAML, actor=actor, stats=stats)

    assert stats == {
        "subsidy_cap_group.unchanged": 1,
        "subsidy_rule.unchanged": 2,
    }
    assert Change.objects.count() == changes
    assert list(SubsidyRule.objects.values_list("code", "version")) == versions
    assert Citation.objects.count() == 4  # three from the file, one on the policy


def test_a_changed_value_updates_only_that_rule(tmp_path):
    make_action_plan(make_regions())
    actor = UserFactory()
    load_subsidy_rules(path=RULES_YAML, actor=actor)
    changed = tmp_path / "subsidy_rules.yaml"
    changed.write_text(RULES_YAML.read_text("utf-8").replace('rate: "0.5"', 'rate: "0.4"'), "utf-8")
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    stats = {}

    load_subsidy_rules(path=changed, actor=actor, stats=stats)

    assert stats["subsidy_rule.updated"] == 1
    insurance = SubsidyRule.objects.get(code="sh-cell-therapy-2022-liability-insurance")
    assert insurance.benefit["rate"] == "0.4"
    assert insurance.version == 2
    (change,) = Change.objects.filter(id__gt=before)
    assert (change.table_name, change.actor_id) == ("policies_subsidyrule", actor.pk)


def test_missing_provision_names_the_entry():
    make_regions()
    with pytest.raises(SubsidyLoadError, match=r"cap_groups\[0\].*provision IV.11 of policy"):
        load_subsidy_rules(path=RULES_YAML, actor=None)
    assert not SubsidyCapGroup.objects.exists()


def test_invalid_rule_in_the_file_is_refused_with_its_field(tmp_path):
    make_action_plan(make_regions())
    broken = tmp_path / "subsidy_rules.yaml"
    broken.write_text(
        RULES_YAML.read_text("utf-8").replace(
            "value: [cell_therapy]}", "value: [cell_therapy, magic]}", 1
        ),
        "utf-8",
    )
    with pytest.raises(SubsidyLoadError, match=r"rules\[0\].*unknown modality 'magic'"):
        load_subsidy_rules(path=broken, actor=None)
    assert not SubsidyRule.objects.exists()  # one transaction: nothing half-loaded
