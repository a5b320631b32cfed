"""Short lock timeouts and the translation of lock failures into ``Busy``.

Scarce rows (nights of inventory, route departures, fund balances) are locked in
primary-key order inside one transaction; waiting longer than
``settings.LOCK_TIMEOUT_MS`` or being picked as a deadlock victim becomes a 409
that changed nothing.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction

from retreat.errors import Busy

_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}  # lock_not_available, deadlock, serialization


def set_lock_timeout() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.LOCK_TIMEOUT_MS}ms"])


def is_busy_error(error: BaseException) -> bool:
    cause = getattr(error, "__cause__", None)
    pgcode = getattr(cause, "pgcode", None) or getattr(error, "pgcode", None)
    if pgcode in _BUSY_SQLSTATES:
        return True
    # SQLite serialises writers; a writer that waited too long reports "locked".
    return isinstance(error, OperationalError) and "locked" in str(error).lower()


@contextmanager
def locked_transaction():
    """An atomic block with a short lock timeout whose lock failures raise ``Busy``."""
    try:
        with transaction.atomic():
            set_lock_timeout()
            yield
    except DatabaseError as error:
        if is_busy_error(error):
            raise Busy() from error
        raise
