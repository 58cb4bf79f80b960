# IdempotencyRecord moves to the api app: state only, the table stays where it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0002_rename_credit_note_audit_action'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name='idempotencyrecord', name='idempotency_age_idx'),
                migrations.RemoveConstraint(model_name='idempotencyrecord',
                                            name='billing_idempotencyrecord_public_id'),
                migrations.RemoveConstraint(model_name='idempotencyrecord',
                                            name='idempotency_key_once'),
                migrations.DeleteModel(name='IdempotencyRecord'),
            ],
            database_operations=[],
        ),
    ]
