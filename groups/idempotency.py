"""``Idempotency-Key`` for POSTs that create or change a booking.

The first response to (user, key) is stored and replayed to every repeat with
the same body, errors included, with the same status. The same key with a
different body (or on another endpoint) is a 422. Concurrent repeats are
serialised by the unique constraint on (user, key): the record is inserted in
the same transaction as the work, so a second request waits on the first
one's insert and then reads its stored answer. A "busy, retry" answer is not
stored (nothing happened, the client is told to try again).

Cost on PostgreSQL: two statements in the request's one transaction, the claim
(``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, no savepoint) and the
answer (``UPDATE``).

Usage, below the router decorator::

    @router.post("/bookings", response={201: BookingOut, **ERRORS})
    @idempotent
    def booking_hold(request, payload: HoldIn): ...
"""

import datetime as dt
import hashlib
import json
from functools import wraps

from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view

from groups.models import IdempotencyRecord
from retreat.errors import ValidationFailed
from retreat.locking import set_lock_timeout

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"


def request_digest(request) -> str:
    try:
        body = json.dumps(json.loads(request.body or b"null"), sort_keys=True, ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        body = request.body
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def _checked_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise ValidationFailed(_("%(header)s 须为 1 到 128 个可打印字符") % {"header": HEADER}, detail={"header": HEADER})
    return key


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(json.dumps(record.response_body, ensure_ascii=False), status=record.status_code,
                            content_type="application/json; charset=utf-8")
    response[REPLAY_HEADER] = "true"
    return response


def _one_transaction(run):
    """Around ninja's whole operation: one transaction holding the record and the work."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        if HEADER not in request.headers:
            return run(request, *args, **kwargs)
        with transaction.atomic():
            set_lock_timeout()
            response = run(request, *args, **kwargs)
            record = getattr(request, "_idempotency_record", None)
            if record is not None:
                body = json.loads(response.content or b"null")
                busy = response.status_code == 409 and isinstance(body, dict) and body.get("code") == "busy"
                if busy or response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code, response_body=body)
        return response

    return wrapper


def _claim(*, user_id: int, key: str, endpoint: str, digest: str) -> IdempotencyRecord | None:
    """Insert the record claiming (user, key), or None when it is already there. A concurrent
    claim of the same key waits on the first one's transaction, then finds its record."""
    if connection.vendor == "postgresql":
        opts = IdempotencyRecord._meta
        quote = connection.ops.quote_name
        columns = ["user_id", "key", "endpoint", "request_digest", "status_code", "response_body", "created_at"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(c) for c in columns)}) "
                "VALUES (%s, %s, %s, %s, 0, '{}'::jsonb, now()) "
                f"ON CONFLICT ({quote('user_id')}, {quote('key')}) DO NOTHING RETURNING {quote('id')}",
                [user_id, key, endpoint, digest],
            )
            row = cursor.fetchone()
        return None if row is None else IdempotencyRecord(pk=row[0], user_id=user_id, key=key, endpoint=endpoint,
                                                          request_digest=digest, status_code=0, response_body={})
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user_id=user_id, key=key, endpoint=endpoint, request_digest=digest, status_code=0, response_body={},
            )
    except IntegrityError:
        return None


def idempotent(view):
    """After authentication: replay a stored answer, refuse a reused key, or claim the key."""

    @wraps(view)
    def claimed_view(request, *args, **kwargs):
        key = _checked_key(request)
        if key is None:
            return view(request, *args, **kwargs)
        digest = request_digest(request)
        record = _claim(user_id=request.user.pk, key=key, endpoint=request.path[:200], digest=digest)
        if record is None:
            record = IdempotencyRecord.objects.get(user_id=request.user.pk, key=key)
            if record.request_digest != digest:
                raise ValidationFailed(
                    _("%(header)s 已用于另一个请求") % {"header": HEADER},
                    code="idempotency_key_reused", detail={"key": key, "endpoint": record.endpoint},
                ) from None
            return _replay(record)
        request._idempotency_record = record
        return view(request, *args, **kwargs)

    return decorate_view(_one_transaction)(claimed_view)


KEEP_RECORDS = dt.timedelta(days=7)  # a client retries within minutes; a week covers any outage


def idempotency_records_purge(*, now: dt.datetime) -> int:
    """Forget answers older than ``KEEP_RECORDS`` (the daily sweep); a key used after that is new again."""
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=now - KEEP_RECORDS).delete()
    return deleted
