"""QuerySets of the projects app."""

from django.db import models


class InvestmentProjectQuerySet(models.QuerySet):
    def within(self, region):
        """Projects whose region is the given region or lies below it."""
        return self.filter(region__path__startswith=region.path)

    def with_relations(self):
        return self.select_related("company", "facility", "region")


class MilestoneQuerySet(models.QuerySet):
    def within(self, region):
        return self.filter(region__path__startswith=region.path)

    def with_relations(self):
        return self.select_related("product", "product__company", "authority", "region")
