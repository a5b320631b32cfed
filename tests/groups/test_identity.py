import datetime as dt
import logging

import pytest
from cryptography.fernet import Fernet

from groups.identity import (
    InvalidResidentId, ResidentIdRedactingFilter, decrypt_resident_id, encrypt_resident_id, mask_resident_id,
    parse_resident_id, reencrypt_resident_id, resident_id_hash,
)
from tests.groups.conftest import resident_id


def test_a_valid_number_gives_birth_date_and_gender():
    parsed = parse_resident_id("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.gender == "F"
    assert parsed.area_code == "110105"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("110105194912310021", "校验位"),  # wrong check digit
        ("11010519491231002", "18 位"),  # too short
        ("1101051949123100AX", "17 位"),  # letters inside
        ("110105194902300029", "出生日期"),  # 30 February
        ("990105194912310021", "地区码"),  # no province 99
    ],
)
def test_invalid_numbers_say_what_is_wrong(number, why):
    with pytest.raises(InvalidResidentId, match=why):
        parse_resident_id(number)


def test_a_birth_date_in_the_future_is_refused():
    number = resident_id(birth="20300101")
    with pytest.raises(InvalidResidentId, match="不合理"):
        parse_resident_id(number, today=dt.date(2026, 11, 23))


def test_lower_case_x_is_accepted():
    assert parse_resident_id("11010519491231002x").number == "11010519491231002X"


def test_masking_keeps_three_and_four():
    assert mask_resident_id("440300199001010014") == "440***********0014"
    assert len(mask_resident_id("440300199001010014")) == 18


def test_encryption_round_trip_and_keyed_hash(settings):
    number = resident_id()
    token = encrypt_resident_id(number)
    assert number not in token
    assert decrypt_resident_id(token) == number
    first = resident_id_hash(number)
    settings.ID_HASH_KEY = "another-key"
    assert resident_id_hash(number) != first


OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_key_list_encrypts_with_the_first_and_decrypts_with_any(settings):
    number = resident_id()
    settings.ID_ENCRYPTION_KEY = OLD_KEY
    old_token = encrypt_resident_id(number)
    settings.ID_ENCRYPTION_KEY = f"{NEW_KEY}, {OLD_KEY}"
    assert decrypt_resident_id(old_token) == number
    new_token = reencrypt_resident_id(old_token)
    assert new_token != old_token and number not in new_token
    settings.ID_ENCRYPTION_KEY = NEW_KEY
    assert decrypt_resident_id(new_token) == number
    with pytest.raises(InvalidResidentId, match="无法用已配置的任何密钥解密"):
        decrypt_resident_id(old_token)
    with pytest.raises(InvalidResidentId, match="无法用已配置的任何密钥解密"):
        reencrypt_resident_id(old_token)


def test_log_records_never_carry_an_id_number():
    number = resident_id()
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "imported %s for %s", (number, "张三"), None)
    ResidentIdRedactingFilter().filter(record)
    assert number not in record.getMessage()
    assert mask_resident_id(number) in record.getMessage()


def test_every_configured_handler_redacts():
    handlers = logging.getLogger().handlers + logging.getLogger("django").handlers + logging.getLogger("django.server").handlers
    handlers = [h for h in handlers if isinstance(h, logging.StreamHandler) and "pytest" not in type(h).__module__]
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, ResidentIdRedactingFilter) for f in handler.filters), handler


@pytest.mark.parametrize("number", ["44030019900101²03X", "４４０３００１９９００１０１００３１", "4403001990010100٣1"])
def test_digits_that_are_not_ascii_are_refused_not_crashing(number):
    with pytest.raises(InvalidResidentId, match="17 位"):
        parse_resident_id(number)
