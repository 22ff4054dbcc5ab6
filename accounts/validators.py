"""Password rules of the portal, as Django password validators (messages in French).

Defaults follow the seed: at least 8 characters with a lower-case letter, an upper-case
letter and a digit. CPF_PASSWORD_MIN_LENGTH and CPF_PASSWORD_REQUIRE_SPECIAL switch to the
portal's current policy (12 characters and a special character).
"""

import re

from django.core.exceptions import ValidationError


class _PatternValidator:
    pattern: re.Pattern
    code: str
    message: str
    help: str

    def validate(self, password, user=None):
        if not self.pattern.search(password or ""):
            raise ValidationError(self.message, code=self.code)

    def get_help_text(self):
        return self.help


class LowercaseValidator(_PatternValidator):
    pattern = re.compile(r"[a-zà-öø-ÿ]")
    code = "password_no_lower"
    message = "Le mot de passe doit contenir au moins une lettre minuscule."
    help = "au moins une lettre minuscule"


class UppercaseValidator(_PatternValidator):
    pattern = re.compile(r"[A-ZÀ-ÖØ-Þ]")
    code = "password_no_upper"
    message = "Le mot de passe doit contenir au moins une lettre majuscule."
    help = "au moins une lettre majuscule"


class DigitValidator(_PatternValidator):
    pattern = re.compile(r"[0-9]")
    code = "password_no_digit"
    message = "Le mot de passe doit contenir au moins un chiffre."
    help = "au moins un chiffre"


class SpecialCharacterValidator(_PatternValidator):
    pattern = re.compile(r"[^0-9A-Za-zÀ-ÖØ-öø-ÿ]")
    code = "password_no_special"
    message = "Le mot de passe doit contenir au moins un caractère spécial (par exemple ! ? @ # * -)."
    help = "au moins un caractère spécial"

    def __init__(self, required: bool = False):
        self.required = required

    def validate(self, password, user=None):
        if self.required:
            super().validate(password, user)

    def get_help_text(self):
        return self.help if self.required else ""
