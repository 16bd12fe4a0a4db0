"""Numbers to run the organisation-number and VAT checks against, each with where it comes from.

python-stdnum's wheel ships no tests; these were copied from the 2.2 source distribution
(``pip download python-stdnum==2.2 --no-binary :all:``): its tests/*.doctest files and the
modules' docstrings. The named organisations' numbers are the ones their national registers
show (Enhetsregisteret at Brønnøysundregistrene, Bolagsverket's Näringslivsregistret, CVR,
YTJ); each also passes stdnum, which is what the tests assert.
"""

STDNUM = "python-stdnum 2.2"

# ---------------------------------------------------------------- valid

# Organisation numbers, by country: (number, source).
VALID_ORG = {
    "NO": [
        ("988 077 917", f"{STDNUM} stdnum/no/orgnr.py docstring"),
        ("974 760 673", "Enhetsregisteret: Brønnøysundregistrene"),
        ("923 609 016", "Enhetsregisteret: Equinor ASA"),
        ("984 851 006", "Enhetsregisteret: DNB Bank ASA"),
        ("982 463 718", "Enhetsregisteret: Telenor ASA"),
        ("986 399 445", "Enhetsregisteret: Innovasjon Norge"),
    ],
    "SE": [
        ("1234567897", f"{STDNUM} stdnum/se/orgnr.py docstring"),
        ("202100-5489", "Näringslivsregistret: Bolagsverket"),
        ("202100-5521", "Näringslivsregistret: Verket för innovationssystem (Vinnova)"),
        ("556011-7482", "Näringslivsregistret: AstraZeneca AB"),
        ("556012-5790", "Näringslivsregistret: AB Volvo"),
        ("556016-0680", "Näringslivsregistret: Telefonaktiebolaget LM Ericsson"),
        ("556042-7220", "Näringslivsregistret: H & M Hennes & Mauritz AB"),
    ],
    "DK": [
        ("DK 13585628", f"{STDNUM} stdnum/dk/cvr.py docstring"),
        ("24256790", "CVR: Novo Nordisk A/S"),
        ("61056416", "CVR: Carlsberg A/S"),
        ("54562519", "CVR: LEGO A/S"),
        ("22756214", "CVR: A.P. Møller - Mærsk A/S"),
        ("10150817", "CVR: Erhvervsstyrelsen"),
    ],
    "FI": [
        ("2077474-0", f"{STDNUM} stdnum/fi/ytunnus.py docstring"),
        ("0112038-9", "YTJ: Nokia Oyj"),
        ("1927400-1", "YTJ: KONE Oyj"),
    ],
    "IS": [
        ("450401-3150", f"{STDNUM} stdnum/is_/kennitala.py docstring (organisation)"),
        ("120174-3399", f"{STDNUM} stdnum/is_/kennitala.py docstring (individual)"),
    ] + [(n, f"{STDNUM} tests/test_is_kennitala.doctest") for n in (
        "020884-2749", "2607565169", "4406032540", "450401-3150", "480408-0550", "4905891209", "5609091440",
        "580169-1559", "580607-0710", "641005-1340", "670901-2110", "670906-0190", "7003090610")],
}

# Swedish personnummer (stdnum's own test numbers): accepted as sole traders' organisation numbers.
SE_PERSONNUMMER = [(n, f"{STDNUM} tests/test_se_personnummer.doctest and stdnum/se/personnummer.py") for n in (
    "670919-9530", "811228-9874", "880320-0016", "880320-0057", "8803200073", "8803200099", "8803200115",
    "8803200131", "8803200156", "8803200172", "8803200198", "8803200420", "890102-3286", "811228-9841")]

# VAT numbers, by country, as found online by stdnum's authors (tests/test_eu_vat.doctest, test_no_mva.doctest).
VALID_VAT = {
    "NO": [(n, f"{STDNUM} tests/test_no_mva.doctest") for n in (
        "965 920 358 MVA", "980 430 596 MVA", "998 772 680 MVA", "NO 987 008 644 MVA", "NO 917 313 008 MVA",
        "NO 948007029 MVA", "NO 966 813 946 MVA", "NO 982 930 057 MVA", "NO 982 952 573 MVA",
        "NO 987 989 297 MVA")] + [("NO 995 525 828 MVA", f"{STDNUM} stdnum/no/mva.py docstring")],
    "SE": [(n, f"{STDNUM} tests/test_eu_vat.doctest") for n in (
        "SE 202 100-5000 01", "SE 390 806 051 401", "SE 55 62 00-0777 01", "SE 55 67 59 32 48 01",
        "SE 556.383.740.901", "SE 556058115801", "SE 556126249301", "SE 556433592401", "SE 556700 3552 01",
        "SE 556708202801", "SE 556728341001", "SE 556848115301", "SE 720 522 241 201", "SE-502053602401",
        "SE-556 644 662 001", "SE-556 792 355 101", "SE-5562245190-01", "SE-556271210801",
        "SE-556666-4438-01", "SE556043606401", "Se 556250398601")]
        + [("SE 123456789701", f"{STDNUM} stdnum/se/vat.py docstring")],
    "DK": [(n, f"{STDNUM} tests/test_eu_vat.doctest") for n in (
        "DK 10 50 32 80", "DK 11 97 56 58", "DK 12 14 48 22", "DK 13 20 24 35", "DK 13 31 04 59",
        "DK 16 89 50 16", "DK 25 18 63 11", "DK 25 76 63 69", "DK 25 86 35 26", "DK 2566 2202",
        "DK 26 09 77 89", "DK 26 57 61 64", "DK 28 01 76 34", "DK 28107773", "DK 29523215", "DK 30 06 09 46",
        "DK 32 27 15 02", "DK 32329853", "DK 65 07 04 13", "DK 90 30 16 59", "DK-20 04 52 72",
        "DK-20 64 64 46", "DK-27630308", "DK-27926592", "DK-28840926", "DK-31882095", "DK-33053266",
        "DK10150817", "DK10290813", "DK26210895", "DK36149213", "DK: 21599336")],
    "FI": [(n, f"{STDNUM} tests/test_eu_vat.doctest") for n in (
        "FI 02459042", "FI 0982651-1", "FI 10320534", "FI 18949388", "FI 20194885", "FI 20774740",
        "FI 2094606-3", "FI 24416318", "FI- 01968312", "FI- 22291259", "FI-214 95 540", "FI-22291240",
        "FI-24163066", "FI18261444")] + [("FI 20774740", f"{STDNUM} stdnum/fi/alv.py docstring")],
    "IS": [("IS 00621", f"{STDNUM} stdnum/is_/vsk.py docstring")],
}

# ---------------------------------------------------------------- invalid: (number, source, words of our message)

INVALID_ORG = {
    "NO": [("988 077 918", f"{STDNUM} stdnum/no/orgnr.py docstring", "check digit")],
    "SE": [("1234567891", f"{STDNUM} stdnum/se/orgnr.py docstring", "check digit"),
           ("880320-0018", f"{STDNUM} stdnum/se/personnummer.py docstring", "check digit")],
    "DK": [(n, f"{STDNUM} tests/test_eu_vat.doctest (InvalidChecksum)", "check digit")
           for n in ("DK 11 96 56 58", "DK 2565 2202", "DK-27996592", "DK10159817")]
          + [("DK 13585627", f"{STDNUM} stdnum/dk/cvr.py docstring", "check digit")],
    "FI": [("2077474-1", f"{STDNUM} stdnum/fi/ytunnus.py docstring", "check digit")],
    "IS": [("530575-0299", f"{STDNUM} stdnum/is_/kennitala.py docstring (InvalidChecksum)", "check digit"),
           ("320174-3399", f"{STDNUM} stdnum/is_/kennitala.py docstring (InvalidComponent)", "not a possible date"),
           ("2883077259", "issue 16: an impossible kennitala the hand-written rule accepted", "not a possible date")],
}

INVALID_VAT = {
    "NO": [("NO 995 525 829 MVA", f"{STDNUM} stdnum/no/mva.py docstring", "check digit")],
    "SE": [("123456789101", f"{STDNUM} stdnum/se/vat.py docstring", "check digit"),
           ("SE 55643359201", f"{STDNUM} tests/test_eu_vat.doctest (InvalidLength)", "12 digits"),
           ("SE 5567003255201", f"{STDNUM} tests/test_eu_vat.doctest (InvalidLength)", "12 digits"),
           ("SE SE 556043606401", f"{STDNUM} tests/test_eu_vat.doctest (duplicated prefix)", "digits only")],
    "DK": [(n, f"{STDNUM} tests/test_eu_vat.doctest (InvalidChecksum)", "check digit")
           for n in ("DK 11 96 56 58", "DK 2565 2202", "DK-27996592", "DK10159817")]
          + [("DK DK 20646446", f"{STDNUM} tests/test_eu_vat.doctest (duplicated prefix)", "digits only")],
    "FI": [("FI 20774741", f"{STDNUM} stdnum/fi/alv.py docstring", "check digit"),
           ("FI FI 20946063", f"{STDNUM} tests/test_eu_vat.doctest (duplicated prefix)", "FI and the eight digits")],
    "IS": [("IS 0062199", f"{STDNUM} stdnum/is_/vsk.py docstring (InvalidLength)", "five or six digits")],
}
