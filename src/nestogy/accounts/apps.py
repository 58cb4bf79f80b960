from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "nestogy.accounts"
    label = "accounts"
    verbose_name = "Staff and access"
