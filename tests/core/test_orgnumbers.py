import pytest

from residency.core.orgnumbers import InvalidOrgNumber, check


@pytest.mark.parametrize(
    "country, raw, canonical",
    [
        ("NO", "986 399 445", "986399445"),  # Innovation Norway
        ("NO", "923000011", "923000011"),
        ("SE", "556011-7482", "556011-7482"),  # AstraZeneca AB
        ("SE", "2021005521", "202100-5521"),  # Vinnova
        ("DK", "29403473", "29403473"),
        ("DK", "DK 29 40 34 73", "29403473"),
        ("FI", "0112038-9", "0112038-9"),
        ("FI", "01120389", "0112038-9"),
        ("IS", "550500-3530", "550500-3530"),
        ("IS", "120174-3399", "120174-3399"),  # a person's kennitala: a sole trader (einstaklingsrekstur)
        ("SE", "880320-0016", "880320-0016"),  # a personnummer: a sole trader (enskild firma)
        ("SE", "8803200016", "880320-0016"),
        ("FI", "FI 0112038-9", "0112038-9"),
    ],
)
def test_valid_numbers_are_accepted_in_canonical_form(country, raw, canonical):
    assert check(country, raw) == canonical


@pytest.mark.parametrize(
    "country, raw, words",
    [
        ("NO", "986399446", "check digit"),
        ("NO", "98639944", "9 digits"),
        ("NO", "98639944X", "digits only"),
        ("SE", "556011-7483", "check digit"),
        # Digits 3-4 below 20 with a good Luhn digit: a sole trader's personnummer if the first six are a
        # date of birth; 13th month, 80th day (a coordination number) and 30 February are not.
        ("SE", "881320-0014", "sole trader"),
        ("SE", "880380-0013", "date of birth"),
        ("SE", "880230-0015", "date of birth"),
        ("DK", "09403473", "cannot start with 0"),
        ("IS", "2883077259", "not a possible date"),  # the impossible kennitala: 83rd month
        ("IS", "320174-3399", "not a possible date"),  # 32 January
        ("IS", "550500-3531", "century"),
        ("IS", "530575-0299", "check digit"),
        ("IS", "55050035", "10 digits"),
        ("IS", "550500-353X", "digits only"),
        ("DK", "29403474", "check digit"),
        ("DK", "0940347", "8 digits"),
        ("FI", "0112038-8", "check digit"),
        ("FI", "112038-9", "form 1234567-8"),
        ("XX", "123", "Choose a country"),
        ("NO", "  ", "Enter the organisation number"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(app, country, raw, words):
    with app.test_request_context():
        with pytest.raises(InvalidOrgNumber) as err:
            check(country, raw)
        assert words in str(err.value.message)


def test_norwegian_check_digit_of_ten_is_invalid(app):
    # 10000001: weights give a remainder whose check digit would be 10.
    base = next(
        f"{n:08d}" for n in range(10000000, 10001000)
        if (11 - sum(int(d) * w for d, w in zip(f"{n:08d}", (3, 2, 7, 6, 5, 4, 3, 2))) % 11) % 11 == 10
    )
    with app.test_request_context():
        for last in "0123456789":
            with pytest.raises(InvalidOrgNumber):
                check("NO", base + last)


def test_finnish_remainder_one_is_invalid(app):
    base = next(f"{n:07d}" for n in range(1000000, 1001000) if sum(int(d) * w for d, w in zip(f"{n:07d}", (7, 9, 10, 5, 8, 4, 2))) % 11 == 1)
    with app.test_request_context():
        for last in "0123456789":
            with pytest.raises(InvalidOrgNumber, match="cannot exist"):
                check("FI", f"{base}-{last}")
