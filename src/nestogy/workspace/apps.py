from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "nestogy.workspace"
    label = "workspace"
    verbose_name = "Staff workspace"
