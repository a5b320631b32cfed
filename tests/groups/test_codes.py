import datetime as dt

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client, override_settings

from groups.codes import (
    ArrivalCode,
    BadCode,
    CodeKind,
    group_code_for,
    personal_code_for,
    public_key_from_hex,
    public_key_hex,
    sign_arrival_code,
    verify_arrival_code,
)
from tests.groups.factories_booking import confirmed_booking

PERSON = ArrivalCode(
    kind=CodeKind.PERSON,
    reference="BK20250512-A7",
    base_id=4242,
    arrival=dt.date(2025, 5, 12),
    last_night=dt.date(2025, 5, 14),
    participant_id=1_234_567,
)
GROUP = ArrivalCode(
    kind=CodeKind.GROUP, reference="BK20250512-A7", base_id=4242, arrival=dt.date(2025, 5, 12), last_night=dt.date(2025, 5, 14)
)


def published_key():
    return public_key_from_hex(public_key_hex())


@pytest.mark.parametrize("arrival_code", [PERSON, GROUP], ids=["person", "group"])
def test_a_signed_code_verifies_and_carries_what_was_signed(arrival_code):
    text = sign_arrival_code(arrival_code)
    assert text.startswith("RT1")
    assert verify_arrival_code(text, public_key=published_key()) == arrival_code


def test_verification_needs_only_the_public_key():
    text = sign_arrival_code(PERSON)
    public_hex = public_key_hex()
    with override_settings(CODE_SIGNING_KEY="not even hex"):
        assert verify_arrival_code(text, public_key=public_key_from_hex(public_hex)) == PERSON


def test_codes_are_compact_enough_for_a_small_alphanumeric_qr():
    text = sign_arrival_code(PERSON)
    assert len(text) < 160
    qr = segno.make(text, error="m")
    assert qr.mode == "alphanumeric" and qr.version <= 7


def test_typed_codes_may_be_lower_case_and_spaced():
    text = sign_arrival_code(GROUP)
    typed = " ".join(text[i:i + 4] for i in range(0, len(text), 4)).lower().replace(" ", "-", 3)
    assert verify_arrival_code(typed, public_key=published_key()) == GROUP


@pytest.mark.parametrize("position", [3, 10, 40, -5])
def test_a_tampered_code_is_refused(position):
    text = sign_arrival_code(PERSON)
    replacement = "A" if text[position] != "A" else "B"
    index = position % len(text)
    tampered = text[:index] + replacement + text[index + 1:]
    with pytest.raises(BadCode) as refused:
        verify_arrival_code(tampered, public_key=published_key())
    assert refused.value.status == 422


def test_a_code_signed_with_another_key_is_refused():
    forged = sign_arrival_code(PERSON, private_key=Ed25519PrivateKey.generate())
    with pytest.raises(BadCode, match="签名无效"):
        verify_arrival_code(forged, public_key=published_key())


@pytest.mark.parametrize(
    "text, reason",
    [("", "prefix"), ("hello", "prefix"), ("RT1!!!!", "encoding"), ("RT1AAAA", "length"), ("RT1" + "A" * 200, "signature")],
)
def test_malformed_codes_are_refused_with_a_reason(text, reason):
    with pytest.raises(BadCode) as refused:
        verify_arrival_code(text, public_key=published_key())
    assert refused.value.detail["reason"] == reason


def test_a_group_code_naming_a_participant_cannot_be_made():
    with pytest.raises(ValueError):
        sign_arrival_code(ArrivalCode(**{**GROUP.__dict__, "participant_id": 5}))


@pytest.mark.django_db
def test_booking_codes_name_the_booking_base_dates_and_person(union_tree):
    booking = confirmed_booking(union=union_tree["factory"], arrival=dt.date(2025, 5, 12), nights=3)
    participant = booking.batch.participants.first()
    group = verify_arrival_code(group_code_for(booking), public_key=published_key())
    person = verify_arrival_code(personal_code_for(booking, participant), public_key=published_key())
    assert (group.kind, group.reference, group.base_id, group.participant_id) == ("group", booking.reference, booking.base_id, None)
    assert (group.arrival, group.last_night) == (dt.date(2025, 5, 12), dt.date(2025, 5, 14))
    assert (person.kind, person.participant_id) == ("person", participant.pk)
    assert group_code_for(booking) == group_code_for(booking)  # Ed25519 is deterministic: reprints match


@pytest.mark.django_db
def test_the_public_key_is_published_to_anyone():
    response = Client().get("/api/v1/itineraries/public-key")
    assert response.status_code == 200
    body = response.json()
    assert body["algorithm"] == "Ed25519" and body["code_prefix"] == "RT1"
    assert verify_arrival_code(sign_arrival_code(GROUP), public_key=public_key_from_hex(body["public_key_hex"])) == GROUP
