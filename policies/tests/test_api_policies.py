"""Policies, provisions, subsidy rules and targets API."""

import datetime

from policies.models import Policy, PolicyTarget, Provision, SubsidyRule
from tests.api_mixins import CitedResourceTests, ResourceApiTests, ids_of
from tests.factories import (
    AuthorityFactory,
    PolicyFactory,
    PolicyTargetFactory,
    ProvisionFactory,
    RegionFactory,
    SubsidyCapGroupFactory,
    SubsidyRuleFactory,
)


class TestPoliciesApi(CitedResourceTests, ResourceApiTests):
    endpoint = "policies"
    model = Policy
    orderings = {
        "effective_from": lambda i: i["effective_from"],
        "title": lambda i: i["title_en"],
    }

    def make(self, **kwargs):
        return PolicyFactory(**kwargs)

    def bulk(self, count):
        region = RegionFactory()
        built = PolicyFactory.build_batch(count, jurisdiction=region)
        for index, policy in enumerate(built):
            policy.effective_from = datetime.date(2020, 1, 1) + datetime.timedelta(days=index)
            policy.expires_on = None
        return Policy.objects.bulk_create(built)

    def filter_cases(self):
        shanghai = RegionFactory(slug="shanghai")
        pudong = RegionFactory(slug="pudong", parent=shanghai)
        city = PolicyFactory(
            jurisdiction=shanghai,
            kind="action_plan",
            effective_from=datetime.date(2022, 11, 10),
            expires_on=datetime.date(2099, 12, 31),
            published_on=datetime.date(2022, 11, 1),
            title_en="Shanghai cell therapy action plan",
        )
        city.issuing_authorities.add(AuthorityFactory(slug="sh-stc"))
        national = PolicyFactory(
            kind="regulation",
            effective_from=datetime.date(2010, 1, 1),
            expires_on=datetime.date(2015, 1, 1),
        )
        district = PolicyFactory(jurisdiction=pudong, expires_on=None)
        return {
            "region": ("shanghai", district, national),
            "applies_to": ("pudong", city, national),
            "kind": ("regulation", national, city),
            "validity": ("in_force", city, national),
            "as_of": ({"as_of": "2012-06-01", "validity": "in_force"}, national, city),
            "effective_after": ("2020-01-01", city, national),
            "published_before": ("2022-12-31", city, national),
            "authority": ("sh-stc", city, national),
            "q": ("cell therapy", city, national),
        }

    def test_validity_is_derived_for_the_requested_day(self, client):
        policy = PolicyFactory(
            effective_from=datetime.date(2022, 1, 1), expires_on=datetime.date(2024, 12, 31)
        )
        assert client.get(self.detail_url(policy)).json()["validity"] == "expired"
        listed = client.get(self.list_url(), {"as_of": "2021-06-01"}).json()["results"]
        assert [item["validity"] for item in listed] == ["not_yet_in_force"]

    def test_issuing_authorities_are_briefs_and_do_not_duplicate_rows(self, client):
        policy = PolicyFactory()
        policy.issuing_authorities.add(AuthorityFactory(), AuthorityFactory())
        assert ids_of(client.get(self.list_url())) == [policy.pk]
        item = client.get(self.detail_url(policy)).json()
        assert len(item["issuing_authorities"]) == 2
        assert item["issuing_authorities"][0]["url"].startswith("http://testserver/api/v1/")


class TestProvisionsApi(CitedResourceTests, ResourceApiTests):
    endpoint = "provisions"
    model = Provision
    lookup = "pk"
    orderings = {"order": lambda i: (i["policy"]["id"], i["order"])}

    def make(self, **kwargs):
        return ProvisionFactory(**kwargs)

    def bulk(self, count):
        policy = PolicyFactory()
        start = Provision.objects.filter(policy=policy).count()
        built = [
            Provision(
                policy=policy,
                path=f"X.{start + i + 1}",
                order=start + i + 1,
                text="T.",
                kind="task",
            )
            for i in range(count)
        ]
        return Provision.objects.bulk_create(built)

    def filter_cases(self):
        subsidy = ProvisionFactory(kind="subsidy", path="IV.11", text="Liability insurance.")
        other = ProvisionFactory(kind="task")
        return {
            "policy": (subsidy.policy.slug, subsidy, other),
            "path": ({"policy": subsidy.policy.slug, "path": "IV.11"}, subsidy, other),
            "kind": ("subsidy", subsidy, other),
            "q": ("insurance", subsidy, other),
        }


class TestSubsidyRulesApi(CitedResourceTests, ResourceApiTests):
    endpoint = "subsidy-rules"
    model = SubsidyRule
    lookup = "code"
    orderings = {"code": lambda i: i["code"]}

    def make(self, **kwargs):
        return SubsidyRuleFactory(**kwargs)

    def bulk(self, count):
        provision = ProvisionFactory()
        built = SubsidyRuleFactory.build_batch(count, provision=provision)
        return SubsidyRule.objects.bulk_create(built)

    def filter_cases(self):
        group = SubsidyCapGroupFactory(code="sh-cap")
        capped = SubsidyRuleFactory(
            cap_group=group, effective_from=datetime.date(2023, 1, 1), name="Insurance premium"
        )
        other = SubsidyRuleFactory(effective_to=datetime.date(2022, 6, 30), currency="USD")
        return {
            "policy": (capped.provision.policy.slug, capped, other),
            "provision": (str(capped.provision_id), capped, other),
            "currency": ("USD", other, capped),
            "cap_group": ("sh-cap", capped, other),
            "effective_on": ("2023-06-01", capped, other),
            "q": ("premium", capped, other),
        }

    def test_rule_shows_provision_policy_and_conditions(self, client):
        rule = self.make(conditions=[{"fact": "event.kind", "op": "eq", "value": "investment"}])
        item = client.get(self.detail_url(rule)).json()
        assert item["conditions"][0]["value"] == "investment"
        assert item["provision"]["slug"] == rule.provision.path
        assert item["provision"]["url"].endswith(f"/api/v1/provisions/{rule.provision_id}/")
        assert item["policy"]["slug"] == rule.provision.policy.slug


class TestTargetsApi(CitedResourceTests, ResourceApiTests):
    endpoint = "targets"
    model = PolicyTarget
    orderings = {"deadline": lambda i: i["deadline"]}

    def make(self, **kwargs):
        return PolicyTargetFactory(**kwargs)

    def bulk(self, count):
        policy, region = PolicyFactory(), RegionFactory()
        built = PolicyTargetFactory.build_batch(count, policy=policy, region=region)
        for index, target in enumerate(built):
            target.deadline = datetime.date(2025, 1, 1) + datetime.timedelta(days=index)
        return PolicyTarget.objects.bulk_create(built)

    def filter_cases(self):
        target = PolicyTargetFactory(metric="companies", deadline=datetime.date(2030, 1, 1))
        other = PolicyTargetFactory(deadline=datetime.date(2024, 1, 1))
        return {
            "policy": (target.policy.slug, target, other),
            "metric": ("companies", target, other),
            "region": (target.region.slug, target, other),
            "deadline_after": ("2025-01-01", target, other),
        }
