import os

from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self):
        from nestogy.wsgi import application

        return application


class Command(BaseCommand):
    help = "Run the production web server (gunicorn; static files served by WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("NESTOGY_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int,
                            default=int(os.environ.get("NESTOGY_PORT", "8000")))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("NESTOGY_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int,
                            default=int(os.environ.get("NESTOGY_WEB_THREADS", "4")))

    def handle(self, *args, **options):
        _Gunicorn({
            "bind": f"{options['host']}:{options['port']}",
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "graceful_timeout": 10,
            "timeout": 60,
            "proc_name": "nestogy-web",
        }).run()
