# TicketAttachment moves to the tickets app (staff attach files too): state only, the table
# and its index and constraint stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0003_login_failures_move_to_core_throttle'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name='ticketattachment',
                                       name='portal_attachment_ticket_idx'),
                migrations.RemoveConstraint(model_name='ticketattachment',
                                            name='portal_ticketattachment_public_id'),
                migrations.DeleteModel(name='TicketAttachment'),
            ],
            database_operations=[],
        ),
    ]
