"""Differential tests: our organisation-number and VAT checks against python-stdnum.

Our check must accept exactly what stdnum accepts (for Sweden: what stdnum.se.orgnr accepts,
less personnummer-shaped numbers whose date stdnum.se.personnummer refuses), on stdnum's own
test numbers, on numbers published in the national registers, and on 20,000 generated numbers
per country; every refusal must be our InvalidOrgNumber with a message, never stdnum's exception.
"""
from __future__ import annotations

import datetime
import random

import pytest
from stdnum.dk import cvr as dk_cvr
from stdnum.eu import vat as eu_vat
from stdnum.fi import alv as fi_alv
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.is_ import kennitala as is_kennitala
from stdnum.is_ import vsk as is_vsk
from stdnum.no import mva as no_mva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_personnummer
from stdnum.se import vat as se_vat

from residency.core.orgnumbers import InvalidOrgNumber, check, check_vat
from tests.core.stdnum_samples import INVALID_ORG, INVALID_VAT, SE_PERSONNUMMER, VALID_ORG, VALID_VAT

COUNTRIES = ("NO", "SE", "DK", "FI", "IS")
PER_COUNTRY = 20_000
SEED = 20260416


def _se_sole_trader_rule(ten: str) -> bool:
    """A Swedish number below 20 in digits 3-4 is a sole trader's personnummer, with a real date."""
    return int(ten[2:4]) >= 20 or se_personnummer.is_valid(ten)


def stdnum_accepts(country: str, number: str) -> bool:
    if country == "NO":
        return no_orgnr.is_valid(number)
    if country == "SE":
        return se_orgnr.is_valid(number) and _se_sole_trader_rule(se_orgnr.compact(number))
    if country == "DK":
        return dk_cvr.is_valid(number)
    if country == "FI":
        return fi_ytunnus.is_valid(number)
    return is_kennitala.is_valid(number)


def stdnum_canonical(country: str, number: str) -> str:
    return {"NO": no_orgnr.compact, "SE": se_orgnr.format, "DK": dk_cvr.compact,
            "FI": fi_ytunnus.format, "IS": is_kennitala.format}[country](number)


def stdnum_accepts_vat(country: str, number: str) -> bool:
    if country == "NO":
        return no_mva.is_valid(number)
    if country == "SE":
        return se_vat.is_valid(number) and _se_sole_trader_rule(se_vat.compact(number)[:10])
    if country == "DK":
        return dk_cvr.is_valid(number)
    if country == "FI":
        return fi_alv.is_valid(number)
    return is_vsk.is_valid(number)


def ours(checker, country, number):
    """(accepted, canonical or message): anything but InvalidOrgNumber escaping fails the test."""
    try:
        return True, checker(country, number)
    except InvalidOrgNumber as refused:
        message = str(refused.message)
        assert message and "%(" not in message, (country, number, message)
        return False, message


# ---------------------------------------------------------------- stdnum's own and published numbers


@pytest.mark.parametrize("country, number, source",
                         [(c, n, s) for c in COUNTRIES for n, s in VALID_ORG[c]]
                         + [("SE", n, s) for n, s in SE_PERSONNUMMER])
def test_valid_published_and_stdnum_numbers_are_accepted(app, country, number, source):
    with app.test_request_context():
        assert stdnum_accepts(country, number), source
        assert ours(check, country, number) == (True, stdnum_canonical(country, number)), source


@pytest.mark.parametrize("country, number, source, words",
                         [(c, n, s, w) for c in COUNTRIES for n, s, w in INVALID_ORG[c]])
def test_invalid_published_and_stdnum_numbers_are_refused_plainly(app, country, number, source, words):
    with app.test_request_context():
        assert not stdnum_accepts(country, number), source
        accepted, message = ours(check, country, number)
        assert not accepted and words in message, (source, message)


@pytest.mark.parametrize("country, number, source", [(c, n, s) for c in COUNTRIES for n, s in VALID_VAT[c]])
def test_valid_vat_numbers_are_accepted(app, country, number, source):
    with app.test_request_context():
        assert stdnum_accepts_vat(country, number), source
        accepted, canonical = ours(check_vat, country, number)
        assert accepted, (source, canonical)
        assert canonical.startswith(country) and " " not in canonical
        if country != "NO" and country != "IS":  # eu.vat knows DK, FI and SE, with their prefix
            assert eu_vat.is_valid(canonical)
            assert eu_vat.compact(number) == canonical


@pytest.mark.parametrize("country, number, source, words",
                         [(c, n, s, w) for c in COUNTRIES for n, s, w in INVALID_VAT[c]])
def test_invalid_vat_numbers_are_refused_plainly(app, country, number, source, words):
    with app.test_request_context():
        assert not stdnum_accepts_vat(country, number), source
        accepted, message = ours(check_vat, country, number)
        assert not accepted and words in message, (source, message)


def test_every_stdnum_vat_sample_holds_the_organisation_number(app):
    """The VAT samples give more real organisation numbers: NO, SE, DK and FI numbers inside them pass `check`."""
    inner = {"NO": lambda v: no_mva.compact(v)[:9], "SE": lambda v: se_vat.compact(v)[:10],
             "DK": dk_cvr.compact, "FI": fi_alv.compact}
    with app.test_request_context():
        for country, strip in inner.items():
            for number, source in VALID_VAT[country]:
                org = strip(number)
                assert ours(check, country, org) == (True, stdnum_canonical(country, org)), source


# ---------------------------------------------------------------- generated numbers


def _date_part(rng: random.Random, *, organisation_day: bool) -> str:
    day = datetime.date(1900, 1, 1) + datetime.timedelta(days=rng.randrange(0, 45_000))
    d = day.day + (40 if organisation_day else 0)
    return f"{d:02d}{day.month:02d}{day.year % 100:02d}"


def _mutate(rng: random.Random, digits: str) -> str:
    """A typing error: one digit changed, two neighbours swapped, one dropped or one added."""
    i = rng.randrange(len(digits))
    kind = rng.randrange(4)
    if kind == 0:
        return digits[:i] + str(rng.randrange(10)) + digits[i + 1:]
    if kind == 1 and i < len(digits) - 1:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
    if kind == 2:
        return digits[:i] + digits[i + 1:]
    return digits[:i] + str(rng.randrange(10)) + digits[i:]


LENGTH = {"NO": 9, "SE": 10, "DK": 8, "FI": 8, "IS": 10}
NOISE = "0123456789-. ABCDEFGHIJKLMNOPQRSTUVWXYZæøåäö–/:+"


def generated(country: str, rng: random.Random, count: int):
    """Uniform digit strings of the right length; digit strings built to be near-valid (real dates for
    IS and Swedish personnummer, the right length otherwise) with a chosen last digit; typing errors
    of those; and strings of any length and character."""
    n = LENGTH[country]
    for k in range(count):
        bucket = k % 4
        if bucket == 0:
            yield "".join(rng.choice("0123456789") for _ in range(n))
        elif bucket in (1, 2):
            if country == "IS":
                body = _date_part(rng, organisation_day=rng.random() < .5) + f"{rng.randrange(100):02d}"
                number = body + str(rng.randrange(10)) + rng.choice("09")
            elif country == "SE" and rng.random() < .5:
                number = _date_part(rng, organisation_day=False) + f"{rng.randrange(10_000):04d}"
            else:
                number = "".join(rng.choice("0123456789") for _ in range(n))
            yield number if bucket == 1 else _mutate(rng, number)
        else:
            yield "".join(rng.choice(NOISE) for _ in range(rng.randrange(1, n + 4))).strip() or "0"


@pytest.mark.parametrize("country", COUNTRIES)
def test_generated_numbers_agree_with_stdnum(app, country):
    rng = random.Random(f"{SEED}-{country}")
    accepted = refused = 0
    with app.test_request_context():
        for number in generated(country, rng, PER_COUNTRY):
            squeezed = "".join(number.split())  # we forgive the spaces people type; stdnum not always
            ok, result = ours(check, country, number)
            assert ok == stdnum_accepts(country, squeezed), (country, number, result)
            if ok:
                assert result == stdnum_canonical(country, squeezed)
                assert check(country, result) == result  # canonical is a fixed point
                accepted += 1
            else:
                refused += 1
    assert accepted > 500 and refused > 5000, (accepted, refused)  # both sides really were exercised


@pytest.mark.parametrize("country", COUNTRIES)
def test_generated_vat_numbers_agree_with_stdnum(app, country):
    rng = random.Random(f"{SEED}-vat-{country}")
    prefix, suffix = {"NO": ("NO", "MVA"), "SE": ("SE", "01"), "DK": ("DK", ""), "FI": ("FI", ""), "IS": ("IS", "")}[country]
    accepted = 0
    with app.test_request_context():
        for k, number in enumerate(generated(country if country != "IS" else "DK", rng, PER_COUNTRY // 4)):
            if country == "IS":
                number = number[: rng.choice((4, 5, 6, 7))]
            if k % 3:
                number = prefix + number + (suffix if k % 3 == 1 else rng.choice(("", "02", "MVA", suffix)))
            squeezed = "".join(number.split())
            ok, result = ours(check_vat, country, number)
            assert ok == stdnum_accepts_vat(country, squeezed), (country, number, result)
            if ok:
                accepted += 1
                if country in ("SE", "DK", "FI"):
                    assert eu_vat.is_valid(result), result
    assert accepted > 50, accepted


def test_spaces_inside_a_number_are_forgiven(app):
    with app.test_request_context():
        assert check("IS", "550500 3530") == "550500-3530"
        assert check("SE", "556011 7482") == "556011-7482"
        assert check("FI", "0112038 - 9") == "0112038-9"
        assert check_vat("NO", "NO 986 399 445 MVA") == "NO986399445MVA"
        assert check_vat("SE", "SE 556011-7482 01") == "SE556011748201"
        assert check_vat("DK", "DK 29 40 34 73") == "DK29403473"
        assert check_vat("FI", "FI 0112038-9") == "FI01120389"
        assert check_vat("IS", "IS 00621") == "IS00621"


@pytest.mark.parametrize("country, raw, words", [
    ("NO", "986399445", "followed by MVA"),
    ("NO", "986399446MVA", "check digit"),
    ("NO", "98639944MVA", "9 digits"),
    ("SE", "SE556011748202", "and 01"),
    ("SE", "SE881320001401", "sole trader"),
    ("FI", "FI0112038", "FI and the eight digits"),
    ("IS", "IS1234567", "five or six digits"),
    ("IS", "IS12A45", "digits only"),
    ("XX", "123", "Choose a country"),
    ("NO", " ", "Enter the VAT number"),
])
def test_vat_refusals_say_what_is_wrong(app, country, raw, words):
    with app.test_request_context():
        with pytest.raises(InvalidOrgNumber) as err:
            check_vat(country, raw)
        assert words in str(err.value.message)


def test_swedish_sole_trader_vat_number_is_accepted(app):
    with app.test_request_context():
        assert check_vat("SE", "SE 880320-0016 01") == "SE880320001601"
