"""Every user-facing string is translated into every language the exchange offers but English
(Norwegian Bokmål, Swedish, Danish, Finnish and Icelandic: residency/core/languages.py).

The sources are extracted afresh (as `make extract-messages` does) and compared
with the catalogues, so a new string without translations fails here.
"""
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from residency.core.languages import LANGUAGES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRANSLATIONS = os.path.join(ROOT, "residency", "translations")
METHODS = [("residency/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
# English is the source language; every other one has its catalogue.
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def source_messages() -> set:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message)[0])
    return found


@pytest.fixture(scope="module")
def extracted():
    return source_messages()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_in_the_sources_is_translated(extracted, language):
    with open(os.path.join(TRANSLATIONS, language, "LC_MESSAGES", "messages.po"), "rb") as fh:
        catalogue = read_po(fh, locale=language)
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if not message.fuzzy and all(strings):
            translated[key] = strings
    missing = sorted(m for m in extracted if m not in translated)
    assert not missing, f"{len(missing)} strings lack a {language} translation, e.g. {missing[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language):
    import re

    with open(os.path.join(TRANSLATIONS, language, "LC_MESSAGES", "messages.po"), "rb") as fh:
        catalogue = read_po(fh, locale=language)
    pattern = re.compile(r"%\((\w+)\)[sd]")
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        wanted = set(pattern.findall(ids[-1]))
        for s in strings:
            assert set(pattern.findall(s)) <= wanted | set(pattern.findall(ids[0])), (message.id, s)
            assert set(pattern.findall(ids[0])) <= set(pattern.findall(s)) | {"num"}, (message.id, s)


def test_every_offered_language_has_a_catalogue_and_only_those():
    """A language added to the list without its catalogue (or a catalogue nobody offers) fails here."""
    catalogues = {name for name in os.listdir(TRANSLATIONS)
                  if os.path.isfile(os.path.join(TRANSLATIONS, name, "LC_MESSAGES", "messages.po"))}
    assert catalogues == set(TRANSLATED)
    assert len(TRANSLATED) == 5
