from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "nestogy.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from nestogy.core import egress

        checks.register(secrets_keys_check, checks.Tags.security)
        # The connect-time guard for third-party HTTP code (active only inside egress.guard()).
        egress.install()


def secrets_keys_check(app_configs, **kwargs):
    """The keys that encrypt stored secrets parse (see core/secrets.py)."""
    from nestogy.core import secrets

    problem = secrets.check_keys()
    if problem is None:
        return []
    return [checks.Error(problem, hint="See docs/operations.md, 'Secrets'.",
                         id="nestogy.E001")]
