from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "nestogy.contracts"
    label = "contracts"
    verbose_name = "Contracts"

    def ready(self) -> None:
        from nestogy.contracts import events  # noqa: F401  (registers)
