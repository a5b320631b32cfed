"""Resident identity numbers (居民身份证号码, GB 11643-1999).

Validation, encryption at rest (Fernet, keys from ``settings.ID_ENCRYPTION_KEY``: the
first encrypts, every one listed decrypts, so a key can be replaced without downtime),
a keyed look-up hash (HMAC-SHA256 with ``settings.ID_HASH_KEY``), masking, and
the logging filter that keeps ID numbers out of every log line. Nothing here
touches the database, so the filter can be installed from settings.
"""

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
# First two digits: provinces, autonomous regions and municipalities (GB/T 2260),
# plus 71 Taiwan, 81 Hong Kong, 82 Macao and 83 (residence permits of Taiwan residents).
_PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]\Z")
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


class InvalidResidentId(ValueError):
    """The message says what is wrong, in the active language."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    area_code: str
    birth_date: dt.date
    gender: str  # "M" or "F", from the parity of the 17th digit

    @property
    def masked(self) -> str:
        return mask_resident_id(self.number)


def check_character(first_17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def parse_resident_id(raw: str, *, today: dt.date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number; raise ``InvalidResidentId`` saying why."""
    number = (raw or "").strip().upper()
    if len(number) != 18:
        raise InvalidResidentId(_("身份证号应为 18 位，实为 %(length)s 位") % {"length": len(number)})
    if not _ID_SHAPE.match(number):  # ASCII digits only: "²" or "٣" pass str.isdigit()
        raise InvalidResidentId(_("身份证号前 17 位须为数字，末位为数字或 X"))
    if number[:2] not in _PROVINCE_PREFIXES:
        raise InvalidResidentId(_("地区码 %(area)s 无效") % {"area": number[:6]})
    try:
        birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidResidentId(_("出生日期 %(date)s 不是有效日期") % {"date": number[6:14]}) from None
    today = today or timezone.localdate()  # the site's day, not the server clock's
    if birth_date > today or birth_date.year < 1900:
        raise InvalidResidentId(_("出生日期 %(date)s 不合理") % {"date": birth_date.isoformat()})
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InvalidResidentId(_("身份证号校验位错误"))
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, area_code=number[:6], birth_date=birth_date, gender=gender)


def mask_resident_id(number: str) -> str:
    """``440***********0014``: the first three and last four characters stay."""
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}" if len(number) > 7 else "*" * len(number)


def _fernet(key: str) -> Fernet:
    """A proper Fernet key is used as it is; any other secret is stretched with SHA-256."""
    try:
        return Fernet(key.encode())
    except ValueError:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


@lru_cache(maxsize=4)
def _cipher(keys: str) -> MultiFernet:
    """``new,old,...``: the first key encrypts, any of them decrypts."""
    return MultiFernet([_fernet(key.strip()) for key in keys.split(",") if key.strip()])


def _configured_cipher() -> MultiFernet:
    from django.conf import settings

    return _cipher(settings.ID_ENCRYPTION_KEY)


_UNDECRYPTABLE = gettext_lazy("身份证号密文无法用已配置的任何密钥解密（已停用的密钥是否从 ID_ENCRYPTION_KEY 中漏掉了？）")


def encrypt_resident_id(number: str) -> str:
    return _configured_cipher().encrypt(number.encode()).decode()


def decrypt_resident_id(token: str) -> str:
    try:
        return _configured_cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise InvalidResidentId(str(_UNDECRYPTABLE)) from None


def reencrypt_resident_id(token: str) -> str:
    """The same number encrypted with the current (first) key; `InvalidResidentId` if no key opens it."""
    try:
        return _configured_cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise InvalidResidentId(str(_UNDECRYPTABLE)) from None


def resident_id_hash(number: str) -> str:
    """A keyed hash for look-ups across batches; useless without ``ID_HASH_KEY``."""
    from django.conf import settings

    return hmac.new(settings.ID_HASH_KEY.encode(), number.upper().encode(), hashlib.sha256).hexdigest()


def redact_resident_ids(text: str) -> str:
    return _ID_LIKE.sub(lambda match: mask_resident_id(match.group(0)), text)


class ResidentIdRedactingFilter(logging.Filter):
    """Masks every 18-character ID-like string in a record, its arguments and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still logged, unformatted
            message = str(record.msg)
        record.msg = redact_resident_ids(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_resident_ids(record.exc_text)
        return True
