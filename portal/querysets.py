"""QuerySets of the shared core."""

from django.db import models


class RegionQuerySet(models.QuerySet):
    def within(self, region):
        """The region and every region below it: one indexed prefix scan of the path."""
        return self.filter(path__startswith=region.path)

    def ancestors_of(self, region):
        """The region's ancestors from the root down, the region itself included."""
        ids = [int(part) for part in region.path.strip("/").split("/") if part]
        return self.filter(pk__in=ids).order_by("depth")


class CitationQuerySet(models.QuerySet):
    def for_object(self, instance):
        from django.contrib.contenttypes.models import ContentType

        return self.filter(
            content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
        ).select_related("source")


class ChangeQuerySet(models.QuerySet):
    def for_object(self, instance):
        return self.filter(table_name=instance._meta.db_table, object_pk=str(instance.pk))
