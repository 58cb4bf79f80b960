"""What the HTTP API itself stores: the first response to a write sent with an
``Idempotency-Key`` header (see :mod:`nestogy.api.idempotency`)."""

from __future__ import annotations

from django.db import models

from nestogy.tenancy.models import TenantOwnedModel


class IdempotencyRecord(TenantOwnedModel):
    """The first response to a write sent with an ``Idempotency-Key`` header.

    The table keeps the name it had when billing owned it (``billing_idempotencyrecord``),
    and so does its public-id constraint: moving the model moved no data.
    """

    public_id_prefix = "idk"

    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()

    class Meta:
        db_table = "billing_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["company", "public_id"],
                                    name="billing_idempotencyrecord_public_id"),
            models.UniqueConstraint(fields=["company", "key"], name="idempotency_key_once"),
        ]
        indexes = [models.Index(fields=["company", "created_at"], name="idempotency_age_idx")]
