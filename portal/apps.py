from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from portal import security
        from portal.audit import install_audit_triggers
        from portal.metrics import dirty as metrics_dirty
        from portal.services import register_after_write

        # Infrastructure, not business logic: keeps every curated table under the audit trigger.
        post_migrate.connect(install_audit_triggers, sender=self, dispatch_uid="portal_audit")
        # Security event logging and the login throttle's failure counter.
        auth_signals.user_logged_in.connect(security.on_user_logged_in, dispatch_uid="sec_in")
        auth_signals.user_login_failed.connect(
            security.on_user_login_failed, dispatch_uid="sec_fail"
        )
        auth_signals.user_logged_out.connect(security.on_user_logged_out, dispatch_uid="sec_out")
        # Derived metrics: after each committed service write, mark affected subjects dirty.
        register_after_write(metrics_dirty.after_write)
