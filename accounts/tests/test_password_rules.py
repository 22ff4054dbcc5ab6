import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from accounts.models import User

pytestmark = pytest.mark.django_db


def errors_for(password, user=None):
    try:
        password_validation.validate_password(password, user or User(email="lea@exemple.fr", first_name="Léa", last_name="Petit"))
    except ValidationError as error:
        return {e.code: e.message % (e.params or {}) for e in error.error_list}
    return {}


@pytest.mark.parametrize(
    "password, code, message",
    [
        ("Ab1cdef", "password_too_short", "Ce mot de passe est trop court"),
        ("ABCDEFG1H", "password_no_lower", "au moins une lettre minuscule"),
        ("abcdefg1h", "password_no_upper", "au moins une lettre majuscule"),
        ("Abcdefghij", "password_no_digit", "au moins un chiffre"),
        ("Password1", "password_too_common", "trop courant"),
        ("Petit2024", "password_too_similar", "trop semblable"),
    ],
)
def test_each_rule_is_told_in_french(password, code, message):
    errors = errors_for(password)
    assert code in errors
    assert message in errors[code]


def test_a_password_following_every_rule_passes():
    assert errors_for("Formation2020") == {}


def test_special_character_and_length_are_settings(settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 14}},
        {"NAME": "accounts.validators.SpecialCharacterValidator", "OPTIONS": {"required": True}},
    ]
    password_validation.get_default_password_validators.cache_clear()
    try:
        errors = errors_for("Formation2020")
        assert set(errors) == {"password_too_short", "password_no_special"}
        assert "caractère spécial" in errors["password_no_special"]
        assert errors_for("Formation-2020!") == {}  # 15 characters with a special one
    finally:
        password_validation.get_default_password_validators.cache_clear()
