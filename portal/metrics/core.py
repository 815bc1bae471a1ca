"""The core's own contributions: the portal-wide data version and region tree changes."""

from portal.metrics import registry, sql

registry.register_family(
    registry.MetricFamily(
        key="portal.data_version",
        subject_type="portal",
        names=("data_version",),
        sql=sql.PORTAL_DATA_VERSION,
        tables=("portal_change",),
        description="Highest audit-log id: the version of the data the portal shows.",
    )
)
# A region moved or renamed: itself and every ancestor on its old and new paths. The trigger
# rewrites the paths of its descendants, and those rows are audited too.
registry.register_change_mapping("portal_region", sql.REGION_CHANGE_MAPPING)
