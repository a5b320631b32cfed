"""Replacing the ID encryption key: `participant_ids_reencrypt` and `manage.py reencrypt_ids`."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from groups.identity import decrypt_resident_id
from groups.models import Participant
from groups.services import participant_ids_reencrypt
from retreat.errors import ValidationFailed
from tests.groups.conftest import add_participant, resident_id

pytestmark = pytest.mark.django_db
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def encrypted_with_old_key(settings, batch):
    settings.ID_ENCRYPTION_KEY = OLD_KEY
    participants = [add_participant(batch, sequence=n) for n in range(1, 6)]
    settings.ID_ENCRYPTION_KEY = f"{NEW_KEY},{OLD_KEY}"
    return participants


def test_every_number_moves_to_the_new_key_and_the_old_key_can_go(settings, encrypted_with_old_key):
    assert participant_ids_reencrypt(chunk_size=2) == 5  # chunks of 2: two full, one partial
    settings.ID_ENCRYPTION_KEY = NEW_KEY
    numbers = [decrypt_resident_id(p.id_encrypted) for p in Participant.objects.order_by("pk")]
    assert numbers == [resident_id(sequence=n) for n in range(1, 6)]


def test_a_number_no_key_opens_changes_nothing_and_is_named(settings, encrypted_with_old_key):
    stranger = encrypted_with_old_key[3]
    lost_key = Fernet(Fernet.generate_key())
    Participant.objects.filter(pk=stranger.pk).update(id_encrypted=lost_key.encrypt(b"440300199001010014").decode())
    before = dict(Participant.objects.values_list("pk", "id_encrypted"))
    with pytest.raises(ValidationFailed) as raised:
        participant_ids_reencrypt(chunk_size=2)
    assert raised.value.detail == {"participant_ids": [stranger.pk]}
    assert dict(Participant.objects.values_list("pk", "id_encrypted")) == before


def test_the_command_reports_the_count_or_fails_with_the_reason(settings, encrypted_with_old_key):
    out = io.StringIO()
    call_command("reencrypt_ids", stdout=out)
    assert "re-encrypted 5 ID numbers" in out.getvalue()
    settings.ID_ENCRYPTION_KEY = Fernet.generate_key().decode()  # the key the numbers now carry is gone
    with pytest.raises(CommandError, match="5 名人员的身份证号无法用已配置的任何密钥解密，未做任何更改"):
        call_command("reencrypt_ids")
