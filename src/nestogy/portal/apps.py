from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "nestogy.portal"
    label = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        from nestogy.portal import (
            conf,  # noqa: F401  (declares company settings)
            signals,  # noqa: F401  (attachment file cleanup)
        )
