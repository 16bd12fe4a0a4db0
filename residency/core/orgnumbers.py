"""Organisation numbers checked by each Nordic country's rule.

``check(country, raw)`` returns the number in its canonical form, or raises
``InvalidOrgNumber`` with a message that says what is wrong.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class InvalidOrgNumber(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if not ch.isspace())


def _require_digits(value: str, count: int, label) -> None:
    if not value.isdigit():
        raise InvalidOrgNumber(_l("%(label)s may contain digits only.", label=label))
    if len(value) != count:
        raise InvalidOrgNumber(
            _l("%(label)s must have %(count)d digits; you entered %(given)d.", label=label, count=count, given=len(value))
        )


def check_no(raw: str) -> str:
    """Norway, organisasjonsnummer: 9 digits, modulus 11 with weights 3,2,7,6,5,4,3,2."""
    value = _digits(raw)
    _require_digits(value, 9, _l("A Norwegian organisation number"))
    total = sum(int(d) * w for d, w in zip(value[:8], (3, 2, 7, 6, 5, 4, 3, 2)))
    check = (11 - total % 11) % 11
    if check == 10 or check != int(value[8]):
        raise InvalidOrgNumber(_l("This Norwegian organisation number fails its check digit; please check for a typing error."))
    return value


def _luhn_ok(value: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_se(raw: str) -> str:
    """Sweden, organisationsnummer: 10 digits (NNNNNN-NNNN), Luhn; digits 3-4 at least 20."""
    value = _digits(raw).replace("-", "")
    _require_digits(value, 10, _l("A Swedish organisation number"))
    if int(value[2:4]) < 20:
        raise InvalidOrgNumber(
            _l("The third and fourth digits of a Swedish organisation number are 20 or more; this looks like a personal identity number.")
        )
    if not _luhn_ok(value):
        raise InvalidOrgNumber(_l("This Swedish organisation number fails its check digit; please check for a typing error."))
    return f"{value[:6]}-{value[6:]}"


def check_dk(raw: str) -> str:
    """Denmark, CVR: 8 digits, weights 2,7,6,5,4,3,2,1, weighted sum divisible by 11."""
    value = _digits(raw)
    if value.upper().startswith("DK"):
        value = value[2:]
    _require_digits(value, 8, _l("A Danish CVR number"))
    if value[0] == "0":
        raise InvalidOrgNumber(_l("A Danish CVR number cannot start with 0."))
    total = sum(int(d) * w for d, w in zip(value, (2, 7, 6, 5, 4, 3, 2, 1)))
    if total % 11:
        raise InvalidOrgNumber(_l("This Danish CVR number fails its check digit; please check for a typing error."))
    return value


def check_fi(raw: str) -> str:
    """Finland, Y-tunnus: 7 digits, a hyphen and a check digit (weights 7,9,10,5,8,4,2)."""
    value = _digits(raw)
    if len(value) == 8 and value.isdigit():
        value = f"{value[:7]}-{value[7]}"
    if len(value) != 9 or value[7] != "-" or not (value[:7].isdigit() and value[8].isdigit()):
        raise InvalidOrgNumber(_l("A Finnish business ID has the form 1234567-8: seven digits, a hyphen and a check digit."))
    remainder = sum(int(d) * w for d, w in zip(value[:7], (7, 9, 10, 5, 8, 4, 2))) % 11
    if remainder == 1:
        raise InvalidOrgNumber(_l("This Finnish business ID cannot exist (its check digit would be invalid)."))
    check = 0 if remainder == 0 else 11 - remainder
    if check != int(value[8]):
        raise InvalidOrgNumber(_l("This Finnish business ID fails its check digit; please check for a typing error."))
    return value


def check_is(raw: str) -> str:
    """Iceland, kennitala of a legal entity: 10 digits, modulus 11 with weights 3,2,7,6,5,4,3,2."""
    value = _digits(raw).replace("-", "")
    _require_digits(value, 10, _l("An Icelandic kennitala"))
    total = sum(int(d) * w for d, w in zip(value[:8], (3, 2, 7, 6, 5, 4, 3, 2)))
    check = (11 - total % 11) % 11
    if check == 10 or check != int(value[8]):
        raise InvalidOrgNumber(_l("This Icelandic kennitala fails its check digit; please check for a typing error."))
    return f"{value[:6]}-{value[6:]}"


CHECKS = {"NO": check_no, "SE": check_se, "DK": check_dk, "FI": check_fi, "IS": check_is}


def check(country: str, raw: str) -> str:
    if country not in CHECKS:
        raise InvalidOrgNumber(_l("Choose a country: Norway, Sweden, Denmark, Finland or Iceland."))
    if not raw or not raw.strip():
        raise InvalidOrgNumber(_l("Enter the organisation number."))
    return CHECKS[country](raw.strip())
