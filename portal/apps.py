from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        from portal.audit import install_audit_triggers

        # Infrastructure, not business logic: keeps every curated table under the audit trigger.
        post_migrate.connect(install_audit_triggers, sender=self, dispatch_uid="portal_audit")
