# Failed portal sign-ins are counted by the shared throttle (core.ThrottleHit) from now on.
# Recent failures are carried over so an attack in progress stays throttled.

from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def carry_over(apps, schema_editor):
    LoginFailure = apps.get_model("portal", "LoginFailure")
    ThrottleHit = apps.get_model("core", "ThrottleHit")
    since = timezone.now() - timedelta(days=1)
    ThrottleHit.objects.bulk_create(
        [ThrottleHit(purpose="portal.login", key=row.email[:254], ip=row.ip, at=row.at)
         for row in LoginFailure.objects.filter(at__gte=since).iterator()],
        batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('portal', '0002_ticketattachment'),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='loginfailure',
            name='portal_loginfail_email_at',
        ),
        migrations.RemoveIndex(
            model_name='loginfailure',
            name='portal_loginfail_ip_at',
        ),
        migrations.DeleteModel(
            name='LoginFailure',
        ),
    ]
