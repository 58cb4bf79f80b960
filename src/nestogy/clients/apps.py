from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "nestogy.clients"
    label = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from nestogy.clients import events  # noqa: F401  (registers the portal mail events)
