from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "nestogy.tenancy"
    label = "tenancy"
    verbose_name = "Companies"

    def ready(self) -> None:
        from nestogy.tenancy import (
            conf,  # noqa: F401  (declares company settings)
            events,  # noqa: F401  (registers company.settings_updated)
        )
