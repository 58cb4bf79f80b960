from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "nestogy.clients"
    label = "clients"
    verbose_name = "Clients"
