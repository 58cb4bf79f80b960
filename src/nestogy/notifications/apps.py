from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "nestogy.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from nestogy.core import events
        from nestogy.notifications import (
            conf,  # noqa: F401  (declares company settings)
            sender,  # noqa: F401  (registers the sender verification mail)
        )
        from nestogy.notifications.actions import reset_sender_verification
        from nestogy.notifications.fanout import handle_events
        from nestogy.notifications.transports.apprise import install_log_filter

        events.subscribe_batch(handle_events)
        install_log_filter()
        # A new sender address starts unverified (tenancy.events).
        events.react("company.settings_updated", reset_sender_verification)
