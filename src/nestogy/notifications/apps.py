from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "nestogy.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from nestogy.core import events
        from nestogy.notifications import conf  # noqa: F401  (declares company settings)
        from nestogy.notifications.fanout import handle_events

        events.subscribe_batch(handle_events)
