"""``Idempotency-Key`` on billing writes: a repeated request returns the first response.

The key is stored per company with a hash of the request (method, path, body) and the
response, inside the same transaction as the write. A repeat with the same key and the same
request answers the stored response and writes nothing; the same key with a different request
answers 409. Records older than 24 hours are pruned by the daily billing housekeeping.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from ninja import Status

from nestogy.api.models import IdempotencyRecord
from nestogy.core.errors import Conflict, ValidationError

HEADER = "Idempotency-Key"


def _hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(request.body or b"")
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> Status:
    if record.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was used with a different request")
    return Status(record.status_code, record.body)


def idempotent(request, run: Callable[[], tuple[int, Any]]) -> Status:
    """Run ``run`` (returning ``(status, body)``) at most once per ``Idempotency-Key``."""
    key = request.headers.get(HEADER)
    if not key:
        code, body = run()
        return Status(code, body)
    key = key.strip()
    if not key or len(key) > 200:
        raise ValidationError(HEADER, "must be 1-200 characters")
    company = request.auth.company
    request_hash = _hash(request)
    existing = IdempotencyRecord.objects.filter(key=key).first()
    if existing is not None:
        return _replay(existing, request_hash)
    try:
        with transaction.atomic():
            code, body = run()
            stored = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
            with transaction.atomic():
                IdempotencyRecord.objects.create(company=company, key=key,
                                                 request_hash=request_hash,
                                                 status_code=code, body=stored)
    except IntegrityError:
        # A concurrent request with this key committed first: answer what it answered.
        existing = IdempotencyRecord.objects.filter(key=key).first()
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return Status(code, stored)
