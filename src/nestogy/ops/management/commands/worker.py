import socket

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string


class Command(BaseCommand):
    help = "Run a background task worker (django-tasks-db). Start several for more throughput."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="*",
                            help="Comma-separated queue names, or * for all (default)")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="Seconds to sleep when no task is waiting")
        parser.add_argument("--batch", action="store_true",
                            help="Run every waiting task, then exit")

    def handle(self, *args, **options):
        worker_id = f"{socket.gethostname()[:40]}-{get_random_string(8)}"
        self.stdout.write(f"Worker {worker_id} processing queues {options['queues']}")
        call_command("db_worker", queue_name=options["queues"], interval=options["interval"],
                     batch=options["batch"], reload=False, worker_id=worker_id,
                     verbosity=options["verbosity"])
