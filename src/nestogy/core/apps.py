from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "nestogy.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from nestogy.core import egress

        # The connect-time guard for third-party HTTP code (active only inside egress.guard()).
        egress.install()
