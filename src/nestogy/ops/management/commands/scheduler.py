from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the cron scheduler: enqueues every periodic job of nestogy.ops.schedule."

    def handle(self, *args, **options):
        from nestogy.ops import schedule

        self.stdout.write("Schedule:")
        for entry in schedule.ENTRIES:
            self.stdout.write(f"  {entry.cron:<14} {entry.task.name:<48} {entry.description}")
        call_command("crontask", no_task_loading=True, no_heartbeat=True)
