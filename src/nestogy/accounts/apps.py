from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "nestogy.accounts"
    label = "accounts"
    verbose_name = "Staff and access"

    def ready(self) -> None:
        from nestogy.accounts import events  # noqa: F401  (registers user.invited, user.joined)
