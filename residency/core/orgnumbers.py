"""Organisation numbers and VAT numbers of the five Nordic countries, checked by python-stdnum.

``check(country, raw)`` returns the organisation number in its canonical form, or raises
``InvalidOrgNumber`` with a message that says what is wrong; ``check_vat(country, raw)`` does
the same for a VAT number.

Whether a number is valid is python-stdnum's verdict (``stdnum.no.orgnr``, ``se.orgnr``,
``dk.cvr``, ``fi.ytunnus``, ``is_.kennitala``; for VAT ``no.mva``, ``se.vat``, ``dk.cvr``,
``fi.alv``, ``is_.vsk``), so no check digit is computed here. This module only removes the
spaces people type, maps stdnum's exceptions (InvalidFormat, InvalidLength, InvalidChecksum,
InvalidComponent) to plain messages, and returns stdnum's compact or formatted form. The
canonical forms are the ones stored before stdnum was used (NO and DK compact, SE, FI and IS
formatted with their hyphen), so registered numbers keep comparing equal.

Decisions (tests/core/test_orgnumbers.py and test_orgnumbers_stdnum.py hold them):

* Sweden, sole traders. An enskild firma has no organisationsnummer of its own: its owner's
  personnummer is its identity number (Bolagsverket, "Organisationsnummer": "Enskilda
  näringsidkare har sitt personnummer som identitetsbeteckning i stället för ett
  organisationsnummer"). Legal entities' numbers have 20 or more in the third and fourth
  digits; a number below 20 there is accepted as a sole trader's when stdnum.se.personnummer
  finds a real date of birth in it, and refused otherwise with a message that says so. This is
  one step stricter than stdnum.se.orgnr alone, which accepts any ten digits with a good Luhn
  digit. Coordination numbers (samordningsnummer, day + 60) are refused: stdnum does not
  accept them as personnummer. The form's hint tells applicants that a sole trader gives the
  owner's personal identity number.
* Iceland, sole traders. A kennitala of an organisation has 40 added to the day; a person in
  business on their own (einstaklingsrekstur) trades under their personal kennitala, so a
  person's kennitala is accepted too (stdnum.is_.kennitala accepts both). The date must exist
  and the last digit give the century (9 or 0): ``2883077259`` is refused.
* VAT numbers are canonical with their country prefix and without spaces, as on an EU
  invoice: NO986399445MVA, SE556011748201, DK29403473, FI01120389, IS12345. No form asks for
  a VAT number today; ``check_vat`` is here for the first that does.
"""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from stdnum.dk import cvr as dk_cvr
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.fi import alv as fi_alv
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.is_ import kennitala as is_kennitala
from stdnum.is_ import vsk as is_vsk
from stdnum.no import mva as no_mva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_personnummer
from stdnum.se import vat as se_vat
from stdnum.util import isdigits


class InvalidOrgNumber(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _squeeze(raw: str) -> str:
    """The number without the spaces people type inside it (stdnum removes its own separators)."""
    return "".join(ch for ch in raw if not ch.isspace())


def _shape(value: str, count: int, label) -> InvalidOrgNumber:
    """What is wrong with a number stdnum refused for its form or length: characters, else length."""
    if not isdigits(value):
        return InvalidOrgNumber(_l("%(label)s may contain digits only.", label=label))
    return InvalidOrgNumber(
        _l("%(label)s must have %(count)d digits; you entered %(given)d.", label=label, count=count, given=len(value)))


# ------------------------------------------------------------------ organisation numbers


def _no(value: str) -> str:
    try:
        return no_orgnr.validate(value)
    except (InvalidFormat, InvalidLength):
        raise _shape(no_orgnr.compact(value), 9, _l("A Norwegian organisation number")) from None
    except InvalidChecksum:
        raise InvalidOrgNumber(
            _l("This Norwegian organisation number fails its check digit; please check for a typing error.")) from None


def check_no(raw: str) -> str:
    """Norway, organisasjonsnummer (stdnum.no.orgnr): 9 digits, stored compact (986399445)."""
    return _no(_squeeze(raw))


def _se(raw: str) -> str:
    try:
        value = se_orgnr.validate(raw)
    except (InvalidFormat, InvalidLength):
        raise _shape(se_orgnr.compact(raw), 10, _l("A Swedish organisation number")) from None
    except InvalidChecksum:
        raise InvalidOrgNumber(
            _l("This Swedish organisation number fails its check digit; please check for a typing error.")) from None
    if int(value[2:4]) < 20:  # not a legal entity's number: a sole trader's personnummer, or nothing
        try:
            se_personnummer.validate(value)
        except ValidationError:
            raise InvalidOrgNumber(_l(
                "A Swedish organisation number has 20 or more in its third and fourth digits. A sole trader "
                "(enskild firma) gives the owner's personal identity number instead, whose first six digits are a "
                "date of birth (YYMMDD); these digits are neither.")) from None
    return se_orgnr.format(value)


def check_se(raw: str) -> str:
    """Sweden, organisationsnummer (stdnum.se.orgnr), or a sole trader's personnummer
    (stdnum.se.personnummer): 10 digits, stored as NNNNNN-NNNN."""
    return _se(_squeeze(raw))


def _dk(raw: str) -> str:
    try:
        return dk_cvr.validate(raw)
    except (InvalidFormat, InvalidLength):
        value = dk_cvr.compact(raw)
        if isdigits(value) and len(value) == 8:  # stdnum's other format rule: no leading 0
            raise InvalidOrgNumber(_l("A Danish CVR number cannot start with 0.")) from None
        raise _shape(value, 8, _l("A Danish CVR number")) from None
    except InvalidChecksum:
        raise InvalidOrgNumber(
            _l("This Danish CVR number fails its check digit; please check for a typing error.")) from None


def check_dk(raw: str) -> str:
    """Denmark, CVR (stdnum.dk.cvr): 8 digits, an optional DK prefix, stored compact (29403473)."""
    return _dk(_squeeze(raw))


def _fi_checksum(value: str) -> InvalidOrgNumber:
    """A refused check digit: a typing error, or a number whose first seven digits allow no check digit."""
    if not any(fi_alv.is_valid(value[:7] + digit) for digit in "0123456789"):
        return InvalidOrgNumber(_l("This Finnish business ID cannot exist (its check digit would be invalid)."))
    return InvalidOrgNumber(_l("This Finnish business ID fails its check digit; please check for a typing error."))


def check_fi(raw: str) -> str:
    """Finland, Y-tunnus (stdnum.fi.ytunnus): 7 digits, a hyphen and a check digit, stored as 1234567-8."""
    raw = _squeeze(raw)
    try:
        value = fi_ytunnus.validate(raw)
    except (InvalidFormat, InvalidLength):
        raise InvalidOrgNumber(
            _l("A Finnish business ID has the form 1234567-8: seven digits, a hyphen and a check digit.")) from None
    except InvalidChecksum:
        raise _fi_checksum(fi_ytunnus.compact(raw)) from None
    return fi_ytunnus.format(value)


_IS_DATE = _l("The first six digits of an Icelandic kennitala are a date (DDMMYY; organisations add 40 to the day), "
              "and these digits are not a possible date.")


def check_is(raw: str) -> str:
    """Iceland, kennitala (stdnum.is_.kennitala) of an organisation or of a person trading on their own:
    10 digits, stored as NNNNNN-NNNN."""
    raw = _squeeze(raw)
    value = is_kennitala.compact(raw)
    try:
        value = is_kennitala.validate(raw)
    except InvalidFormat:
        if not isdigits(value) or len(value) != 10:
            raise _shape(value, 10, _l("An Icelandic kennitala")) from None
        if value[0] in "89" or value[2] not in "01":  # day or month out of any range
            raise InvalidOrgNumber(_IS_DATE) from None
        raise InvalidOrgNumber(_l(
            "The last digit of an Icelandic kennitala is its century: 9 for 1900 to 1999, 0 from 2000.")) from None
    except InvalidComponent:
        raise InvalidOrgNumber(_IS_DATE) from None
    except InvalidChecksum:
        raise InvalidOrgNumber(
            _l("This Icelandic kennitala fails its check digit; please check for a typing error.")) from None
    return is_kennitala.format(value)


CHECKS = {"NO": check_no, "SE": check_se, "DK": check_dk, "FI": check_fi, "IS": check_is}


def check(country: str, raw: str) -> str:
    if country not in CHECKS:
        raise InvalidOrgNumber(_l("Choose a country: Norway, Sweden, Denmark, Finland or Iceland."))
    if not raw or not raw.strip():
        raise InvalidOrgNumber(_l("Enter the organisation number."))
    return CHECKS[country](raw.strip())


# ------------------------------------------------------------------ VAT numbers


def check_vat_no(raw: str) -> str:
    """Norway, MVA number (stdnum.no.mva): the organisation number followed by MVA."""
    raw = _squeeze(raw)
    value = no_mva.compact(raw)
    try:
        value = no_mva.validate(raw)
    except ValidationError:
        if value.endswith("MVA"):
            _no(value[:-3])  # says what is wrong with the organisation number inside
        raise InvalidOrgNumber(_l(
            "A Norwegian VAT number is the organisation number followed by MVA, for example "
            "NO 986 399 445 MVA.")) from None
    return "NO" + value


def check_vat_se(raw: str) -> str:
    """Sweden, momsregistreringsnummer (stdnum.se.vat): SE, the organisation number and 01."""
    raw = _squeeze(raw)
    value = se_vat.compact(raw)
    try:
        value = se_vat.validate(raw)
    except ValidationError:
        if not isdigits(value) or len(value) != 12:
            raise _shape(value, 12, _l("A Swedish VAT number")) from None
        if value.endswith("01"):
            _se(value[:10])  # says what is wrong with the organisation number inside
        raise InvalidOrgNumber(_l(
            "A Swedish VAT number is SE, the ten-digit organisation number and 01, for example "
            "SE 556011748201.")) from None
    _se(value[:10])  # the sole-trader rule of the organisation number holds here too
    return "SE" + value


def check_vat_dk(raw: str) -> str:
    """Denmark, VAT (stdnum.dk.cvr): DK and the CVR number."""
    return "DK" + _dk(_squeeze(raw))


def check_vat_fi(raw: str) -> str:
    """Finland, ALV number (stdnum.fi.alv): FI and the business ID's eight digits without the hyphen."""
    raw = _squeeze(raw)
    value = fi_alv.compact(raw)
    try:
        value = fi_alv.validate(raw)
    except (InvalidFormat, InvalidLength):
        raise InvalidOrgNumber(_l(
            "A Finnish VAT number is FI and the eight digits of the business ID without its hyphen, for example "
            "FI01120389.")) from None
    except InvalidChecksum:
        raise _fi_checksum(value) from None
    return "FI" + value


def check_vat_is(raw: str) -> str:
    """Iceland, VSK number (stdnum.is_.vsk): five or six digits, no check digit."""
    raw = _squeeze(raw)
    value = is_vsk.compact(raw)
    try:
        value = is_vsk.validate(raw)
    except ValidationError:
        if not isdigits(value):
            raise _shape(value, 6, _l("An Icelandic VAT number")) from None
        raise InvalidOrgNumber(_l("An Icelandic VAT number has five or six digits; you entered %(given)d.",
                                  given=len(value))) from None
    return "IS" + value


VAT_CHECKS = {"NO": check_vat_no, "SE": check_vat_se, "DK": check_vat_dk, "FI": check_vat_fi, "IS": check_vat_is}


def vat_org_number(country: str, vat: str) -> str | None:
    """The organisation number inside a canonical VAT number, in ``check``'s canonical form
    (None for Iceland, whose VSK number is not built from the kennitala)."""
    digits = vat[2:]
    if country == "NO":
        return digits[:9]
    if country == "SE":
        return f"{digits[:6]}-{digits[6:10]}"
    if country == "DK":
        return digits
    if country == "FI":
        return f"{digits[:7]}-{digits[7:]}"
    return None


def check_vat(country: str, raw: str) -> str:
    if country not in VAT_CHECKS:
        raise InvalidOrgNumber(_l("Choose a country: Norway, Sweden, Denmark, Finland or Iceland."))
    if not raw or not raw.strip():
        raise InvalidOrgNumber(_l("Enter the VAT number."))
    return VAT_CHECKS[country](raw.strip())
