from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "nestogy.audit"
    label = "audit"
    verbose_name = "Audit trail"
