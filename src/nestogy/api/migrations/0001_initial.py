# IdempotencyRecord, moved here from billing: state only, the table billing created stays.

import django.db.models.deletion
import django.utils.timezone
import nestogy.core.ids
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tenancy', '0003_companylogo'),
        ('billing', '0003_idempotencyrecord_moves_to_api'),
    ]

    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', nestogy.core.ids.PublicIdField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('key', models.CharField(max_length=200)),
                ('request_hash', models.CharField(max_length=64)),
                ('status_code', models.PositiveSmallIntegerField()),
                ('body', models.JSONField()),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
            ],
            options={
                'db_table': 'billing_idempotencyrecord',
                'indexes': [models.Index(fields=['company', 'created_at'], name='idempotency_age_idx')],
                'constraints': [models.UniqueConstraint(fields=('company', 'public_id'), name='billing_idempotencyrecord_public_id'), models.UniqueConstraint(fields=('company', 'key'), name='idempotency_key_once')],
            },
        ),
    ])]
