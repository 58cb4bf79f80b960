# TicketAttachment, moved here from the portal: state only, the table the portal created
# stays (portal_ticketattachment). The next migration adds what is new.

import django.db.models.deletion
import django.utils.timezone
import nestogy.core.ids
import nestogy.tickets.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0001_initial'),
        ('tenancy', '0001_initial'),
        ('tickets', '0002_due_indexes'),
        ('portal', '0004_ticketattachment_moves_to_tickets'),
    ]

    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.CreateModel(
            name='TicketAttachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', nestogy.core.ids.PublicIdField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('file', models.FileField(max_length=255, upload_to=nestogy.tickets.models.attachment_path)),
                ('original_name', models.CharField(max_length=255)),
                ('size', models.PositiveBigIntegerField()),
                ('content_type', models.CharField(max_length=100)),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company')),
                ('reply', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='attachments', to='tickets.reply')),
                ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='tickets.ticket')),
                ('uploaded_by_contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='clients.contact')),
            ],
            options={
                'db_table': 'portal_ticketattachment',
                'indexes': [models.Index(fields=['company', 'ticket', 'created_at'], name='portal_attachment_ticket_idx')],
                'constraints': [models.UniqueConstraint(fields=('company', 'public_id'), name='portal_ticketattachment_public_id')],
            },
        ),
    ])]
