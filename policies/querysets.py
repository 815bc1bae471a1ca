"""QuerySets of the policies app."""

import datetime

from django.db import models
from django.db.models import Case, Q, Value, When

from policies.choices import ValidityStatus


class PolicyQuerySet(models.QuerySet):
    def with_validity_on(self, day: datetime.date):
        """Annotate `validity` (a ValidityStatus value) as of `day`, in SQL."""
        return self.annotate(
            validity=Case(
                When(repealed_on__lte=day, then=Value(ValidityStatus.REPEALED)),
                When(effective_from__gt=day, then=Value(ValidityStatus.NOT_YET_IN_FORCE)),
                When(expires_on__lt=day, then=Value(ValidityStatus.EXPIRED)),
                default=Value(ValidityStatus.IN_FORCE),
                output_field=models.CharField(),
            )
        )

    def active_on(self, day: datetime.date):
        """Policies in force on `day`."""
        return self.filter(
            Q(effective_from__isnull=True) | Q(effective_from__lte=day),
            Q(expires_on__isnull=True) | Q(expires_on__gte=day),
            Q(repealed_on__isnull=True) | Q(repealed_on__gt=day),
        )

    def covering(self, region):
        """Policies whose jurisdiction is the region or one of its ancestors."""
        return self.filter(jurisdiction_id__in=region.ancestor_ids)


class ProvisionQuerySet(models.QuerySet):
    def with_relations(self):
        return self.select_related("policy").prefetch_related("responsible_authorities")
