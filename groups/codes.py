"""Signed arrival codes (一码核销): one per confirmed booking, one per participant.

A code is ``RT1`` followed by the unpadded base32 of a compact binary body and
its Ed25519 signature. Base32 uses only QR-alphanumeric characters, so the QR
code stays small (version 7–8 at level M for a typical code).

Body, in order:

- kind: ``G`` (group) or ``P`` (person), one byte
- base id: unsigned LEB128 varint
- arrival: days since 2000-01-01, two bytes big-endian
- last night: days after arrival, one byte
- participant id: varint, 0 for a group code
- booking reference: one length byte, then UTF-8

The signature covers ``RT1`` and the body. ``verify_arrival_code`` needs only
the public key, so a scanning device (or the scan page's WebCrypto check) can
tell a genuine code from a forged or altered one without any secret.
"""

import base64
import binascii
import datetime as dt
import enum
import functools
import io
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from retreat.errors import ValidationFailed

CODE_PREFIX = "RT1"
SIGNATURE_BYTES = 64
DATE_EPOCH = dt.date(2000, 1, 1)


class CodeKind(enum.StrEnum):
    GROUP = "group"
    PERSON = "person"


_KIND_BYTES = {CodeKind.GROUP: b"G", CodeKind.PERSON: b"P"}
_KINDS_BY_BYTE = {value[0]: kind for kind, value in _KIND_BYTES.items()}


@dataclass(frozen=True)
class ArrivalCode:
    """What a code asserts; ``participant_id`` is None for a group code."""

    kind: CodeKind
    reference: str
    base_id: int
    arrival: dt.date
    last_night: dt.date
    participant_id: int | None = None


class BadCode(ValidationFailed):
    code = "bad_code"


def sign_arrival_code(arrival_code: ArrivalCode, *, private_key: Ed25519PrivateKey | None = None) -> str:
    message = CODE_PREFIX.encode() + _encode_body(arrival_code)
    signature = (private_key or signing_private_key()).sign(message)
    return CODE_PREFIX + base64.b32encode(message[len(CODE_PREFIX):] + signature).decode().rstrip("=")


def verify_arrival_code(text: str, *, public_key: Ed25519PublicKey) -> ArrivalCode:
    """Check the signature and decode; raises ``BadCode`` for anything not issued by us."""
    normalised = normalise_code_text(text)
    if not normalised.startswith(CODE_PREFIX):
        raise BadCode(_("无法识别的核销码"), detail={"reason": "prefix"})
    encoded = normalised[len(CODE_PREFIX):]
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        raise BadCode(_("核销码已损坏"), detail={"reason": "encoding"}) from None
    if len(raw) <= SIGNATURE_BYTES:
        raise BadCode(_("核销码不完整"), detail={"reason": "length"})
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    try:
        public_key.verify(signature, CODE_PREFIX.encode() + body)
    except InvalidSignature:
        raise BadCode(_("核销码签名无效，可能被伪造或篡改"), detail={"reason": "signature"}) from None
    return _decode_body(body)


def normalise_code_text(text: str) -> str:
    """Codes may be typed in lower case, with spaces or dashes between groups."""
    return "".join(text.split()).replace("-", "").upper()


def group_code_for(booking) -> str:
    return sign_arrival_code(_code_of(booking, kind=CodeKind.GROUP, participant_id=None))


def personal_code_for(booking, participant) -> str:
    return sign_arrival_code(_code_of(booking, kind=CodeKind.PERSON, participant_id=participant.pk))


def qr_svg(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, border=2)
    return buffer.getvalue()


def qr_png(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def signing_private_key() -> Ed25519PrivateKey:
    return _private_key_from_seed(settings.CODE_SIGNING_KEY)


def signing_public_key() -> Ed25519PublicKey:
    return signing_private_key().public_key()


def public_key_hex() -> str:
    return signing_public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def public_key_from_hex(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))


@functools.lru_cache(maxsize=4)
def _private_key_from_seed(seed_hex: str) -> Ed25519PrivateKey:
    try:
        seed = bytes.fromhex(seed_hex)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise ImproperlyConfigured("CODE_SIGNING_KEY must be 64 hex digits (an Ed25519 seed)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _code_of(booking, *, kind: CodeKind, participant_id: int | None) -> ArrivalCode:
    return ArrivalCode(
        kind=kind,
        reference=booking.reference,
        base_id=booking.base_id,
        arrival=booking.arrival,
        last_night=booking.last_night,
        participant_id=participant_id,
    )


def _encode_body(arrival_code: ArrivalCode) -> bytes:
    reference = arrival_code.reference.encode()
    stay_offset = (arrival_code.last_night - arrival_code.arrival).days
    arrival_days = (arrival_code.arrival - DATE_EPOCH).days
    if not (0 <= arrival_days < 1 << 16 and 0 <= stay_offset < 256 and len(reference) < 256):
        raise ValueError(f"cannot encode {arrival_code!r}")
    if (arrival_code.kind == CodeKind.PERSON) != (arrival_code.participant_id is not None):
        raise ValueError("a personal code names its participant, a group code none")
    return b"".join(
        [
            _KIND_BYTES[arrival_code.kind],
            _varint(arrival_code.base_id),
            arrival_days.to_bytes(2, "big"),
            stay_offset.to_bytes(1, "big"),
            _varint(arrival_code.participant_id or 0),
            len(reference).to_bytes(1, "big"),
            reference,
        ]
    )


def _decode_body(body: bytes) -> ArrivalCode:
    """Decode a body whose signature has been verified; a malformed one is still refused."""
    try:
        kind = _KINDS_BY_BYTE[body[0]]
        base_id, position = _read_varint(body, 1)
        arrival = DATE_EPOCH + dt.timedelta(days=int.from_bytes(body[position:position + 2], "big"))
        last_night = arrival + dt.timedelta(days=body[position + 2])
        participant_id, position = _read_varint(body, position + 3)
        reference_length = body[position]
        reference = body[position + 1:position + 1 + reference_length].decode()
        if len(body) != position + 1 + reference_length:
            raise ValueError("trailing bytes")
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        raise BadCode(_("核销码内容有误"), detail={"reason": "body"}) from None
    return ArrivalCode(
        kind=kind,
        reference=reference,
        base_id=base_id,
        arrival=arrival,
        last_night=last_night,
        participant_id=participant_id if kind == CodeKind.PERSON else None,
    )


def _varint(number: int) -> bytes:
    if number < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    number, shift = 0, 0
    while True:
        byte = data[position]
        number |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            return number, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
