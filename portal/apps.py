from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from portal import security
        from portal.audit import install_audit_triggers

        # Infrastructure, not business logic: keeps every curated table under the audit trigger.
        post_migrate.connect(install_audit_triggers, sender=self, dispatch_uid="portal_audit")
        # Security event logging and the login throttle's failure counter.
        auth_signals.user_logged_in.connect(security.on_user_logged_in, dispatch_uid="sec_in")
        auth_signals.user_login_failed.connect(
            security.on_user_login_failed, dispatch_uid="sec_fail"
        )
        auth_signals.user_logged_out.connect(security.on_user_logged_out, dispatch_uid="sec_out")
