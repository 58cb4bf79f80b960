from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    name = "nestogy.timesheets"
    label = "timesheets"
    verbose_name = "Time"

    def ready(self) -> None:
        from nestogy.timesheets import conf  # noqa: F401  (declares company settings)
