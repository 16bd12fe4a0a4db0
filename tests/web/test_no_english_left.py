"""Every page a demo role reaches renders in Danish, Finnish and Icelandic with no English left (issue 16).

On the demo programme, each demo login (``demo.DEMO_LOGINS``) and a visitor walk the GET pages reachable
from the landing page (same-site links, breadth first, a bounded number of pages and of pages of each
shape). Each page is rendered in English and then in every other offered language: signed in, with the
account's saved language (the footer's form, as a person chooses it); as a visitor, with the browser's
Accept-Language. The visible text (text outside scripts and styles, and the title, aria-label,
placeholder and alt a screen reader or a tooltip shows; not a field's value being edited in a textarea,
nor code in <code>) is cut into the pieces the markup separates, and a piece of the English rendering
that appears unchanged in another language's rendering of the same page is English left over, unless
what is left of it, once these are taken out, holds no word of two letters or more:

- data: every text the database holds, and each paragraph of it (names of organisations and people,
  call titles and descriptions, the demo's answers, criteria and instalment labels typed in English);
- codes and numbers: file names, e-mail addresses, paths, time zones (Europe/Oslo), upper-case codes
  (NOK, CEST, TRL, AS), digits and dates written in digits;
- text marked as another language (``lang``): an e-mail shown as its recipient will read it (the
  release preview, the outbox), the language switcher's names, each in its own language;
- words the translator kept: a catalogue entry whose translation is the English itself ("Startup" in
  Danish, "Finland" in Swedish).

Nothing else is allowed, so the allowance list is the catalogues and the database, not a hand-kept list.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict, deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import JSON, String, Text, select

from residency import demo
from residency.core.extensions import db
from residency.core.languages import LANGUAGES

TRANSLATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "residency", "translations")
OTHER_LANGUAGES = [code for code in LANGUAGES if code != "en"]
ROLES = [email for email, _label, _org in demo.DEMO_LOGINS] + [None]  # None: a visitor
PAGES_PER_ROLE = 60
PAGES_PER_SHAPE = 2  # /startup/applications/1 and /2 are the same page with other data
VISITOR_START = ["/", "/calls", "/account/login", "/account/register", "/account/forgot"]
NOT_WALKED = re.compile(r"^/(static/|account/logout|language|api/v1/)|\.(csv|xlsx|ics|json|pdf)$|/attachments/")
# Not interface text: scripts and styles; a field's value being edited (textarea); a code shown as code.
SKIPPED_ELEMENTS = {"script", "style", "template", "textarea", "code"}
SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
CODES = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"          # e-mail addresses
    r"|(https?://|/)\S*"                    # addresses and paths
    r"|\b[A-Z][A-Za-z]+/[A-Za-z_]+\b"       # time zones (Europe/Oslo, Atlantic/Reykjavik)
    r"|\b[A-Z][A-Z0-9]{1,6}\b"              # codes: NOK, CEST, TRL, Q1, AS, AB
    r"|[\w.-]+\.(pdf|docx?|xlsx|pptx?|odt|png|jpe?g|csv|txt)\b"  # file names
    r"|\d[\d.,\u00a0\u202f ]*(kB|MB|GB)\b"  # file sizes: a number and CLDR's unit symbol, the same in every language
    r"|\d[\d.,:/%\u2013\u2212\u00a0\u202f -]*"  # numbers, amounts, days written in digits
)
WORD = re.compile(r"[^\W\d_]{2,}")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(HTMLParser):
    """The visible pieces of text of a page in the page's own language, and its same-site links.

    Text inside an element whose ``lang`` names another language is declared as that language (an
    e-mail shown as its recipient reads it, the switcher's language names) and is left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces, self.links, self._skipping = [], [], 0
        self.language, self._open, self._langs = None, defaultdict(int), []  # _langs: (tag, depth, lang)

    def _other_language(self) -> bool:
        return bool(self._langs) and self._langs[-1][2] != self.language

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.language = a.get("lang")
        elif tag not in VOID:
            self._open[tag] += 1
            if a.get("lang"):
                self._langs.append((tag, self._open[tag], a["lang"]))
        if tag in SKIPPED_ELEMENTS:
            self._skipping += 1
        if tag == "a" and a.get("href", "").startswith("/") and not a["href"].startswith("//"):
            self.links.append(a["href"].split("#")[0])
        if self._other_language() or (a.get("lang") and a["lang"] != self.language):
            return
        self.pieces += [a[name] for name in SHOWN_ATTRIBUTES if a.get(name)]
        if tag == "input" and a.get("type") in ("submit", "button", "reset") and a.get("value"):
            self.pieces.append(a["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self._skipping:
            self._skipping -= 1
        if tag in VOID or not self._open[tag]:
            return
        while self._langs and self._langs[-1][0] == tag and self._langs[-1][1] >= self._open[tag]:
            self._langs.pop()
        self._open[tag] -= 1

    def handle_data(self, data):
        if not self._skipping and not self._other_language():
            self.pieces.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


# ------------------------------------------------------------------ what may stay the same


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def data_pattern() -> re.Pattern:
    """Every text the database holds (but codes: a state, a slug, a hash), longest first, as whole words."""
    found = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for value in row:
                found.update(_strings(value))
    # A text of several paragraphs is shown paragraph by paragraph: each is data too.
    texts = {" ".join(part.split()) for t in found for part in [t, *t.splitlines()]}
    texts = sorted((t for t in texts if WORD.search(t) and not re.fullmatch(r"[a-z0-9_.:$/+=-]+", t)), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in texts) + r")(?!\w)")


def kept_by_translator(language: str) -> set[str]:
    """The English strings whose translation in ``language`` is the English itself."""
    with open(os.path.join(TRANSLATIONS, language, "LC_MESSAGES", "messages.po"), "rb") as fh:
        catalogue = read_po(fh, locale=language)
    kept = set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        for english in ids:
            if english and english in strings:
                kept.add(_words(" ".join(english.split())))
    return kept


def _words(piece: str) -> str:
    return piece.strip(" \t\r\n.,;:!?()[]{}«»“”„\"'‘’–—-·•|*/→←…")


def english_left(piece_sets: dict, data: re.Pattern) -> dict:
    """{piece: True} for the texts that could only be words of the interface (data and codes taken out)."""
    result = {}
    for raw in piece_sets:
        text = " ".join(raw.split())
        residue = CODES.sub(" ", data.sub(" ", text))
        residue = _words(" ".join(residue.split()))
        if WORD.search(residue):
            result[text] = residue
    return result


def left_in(english_html: str, translated_html: str, data: re.Pattern, kept: set[str]) -> set[str]:
    """The pieces of the English rendering that the translated rendering shows unchanged."""
    ours = english_left(parse(english_html).pieces, data)
    theirs = english_left(parse(translated_html).pieces, data)
    return {piece for piece in ours.keys() & theirs.keys() if ours[piece] not in kept}


# ------------------------------------------------------------------ the walk


def walk(client, start: list[str]) -> dict[str, str]:
    """{path: English html} for the pages reachable from ``start``."""
    pages, queue, seen, shapes = {}, deque(start), set(start), defaultdict(int)
    while queue and len(pages) < PAGES_PER_ROLE:
        url = queue.popleft()
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code < 500, url
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[url] = html
        for link in parse(html).links:
            shape = re.sub(r"\d+", "N", urlsplit(link).path)
            if link in seen or NOT_WALKED.search(urlsplit(link).path) or shapes[shape] >= PAGES_PER_SHAPE:
                continue
            seen.add(link)
            shapes[shape] += 1
            queue.append(link)
    return pages


def choose(client, signed_in: bool, language: str) -> dict:
    """Make the client read ``language``: the account's saved choice, or the browser's languages."""
    if not signed_in:
        return {"Accept-Language": f"{language},en;q=0.1"}
    assert client.post("/language", data={"language": language, "next": "/"}).status_code == 302
    return {"Accept-Language": "en"}  # the saved choice must win over the browser


@pytest.fixture
def demo_programme(app):
    demo.seed()


@pytest.mark.parametrize("role", ROLES, ids=[r or "visitor" for r in ROLES])
def test_every_page_of_the_role_has_no_english_left(app, demo_programme, role):
    client = app.test_client()
    if role is None:
        start = VISITOR_START
    else:
        response = client.post("/account/login", data={"email": role, "password": demo.PASSWORD})
        assert response.status_code == 302, role
        start = [urlsplit(response.headers["Location"]).path, "/"]
    english = walk(client, start)
    assert len(english) >= (4 if role is None else 5), sorted(english)  # the walk went somewhere
    data = data_pattern()
    leaks = defaultdict(set)  # (language, piece) -> pages
    for language in OTHER_LANGUAGES:
        headers = choose(client, role is not None, language)
        kept = kept_by_translator(language)
        for url, html in english.items():
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                continue
            translated_html = response.get_data(as_text=True)
            assert f'<html lang="{language}"' in translated_html, (language, url)
            for piece in left_in(html, translated_html, data, kept):
                leaks[(language, piece)].add(url)
        # The walk found the English in the English pages: the comparison can fail.
        assert any(english_left(parse(h).pieces, data) for h in english.values())
    report = [f"{language}: {piece!r} on {sorted(pages)[:3]}" for (language, piece), pages in sorted(leaks.items())]
    assert not report, f"{len(report)} English pieces left untranslated:\n" + "\n".join(report[:80])


def test_the_comparison_finds_english_and_allows_only_names_data_and_marked_languages():
    page = ("<html lang='{lang}'><head><title>{title}</title></head><body><p>{text}</p><p>Fjordbio Therapeutics AS</p>"
            "<p>NOK 150,000.00 · Europe/Oslo · siri@demo.test · pitch-deck.pdf</p><p lang='en'>Good news: you are nominated</p>"
            "<textarea>Plain words typed</textarea><script>var x = 'Untranslated';</script>"
            "<button aria-label='{label}'>{button}</button><input type='submit' value='{button}'><p>Startup</p></body></html>")
    english = page.format(lang="en", title="My startup", text="Submit the application", label="Close", button="Save")
    danish = page.format(lang="da", title="Min startup", text="Submit the application", label="Close", button="Gem")
    data = re.compile(r"(?<!\w)(Fjordbio Therapeutics AS)(?!\w)")
    assert left_in(english, danish, data, kept={"Startup"}) == {"Submit the application", "Close"}
    assert left_in(english, danish, data, kept={"Startup", "Close", "Submit the application"}) == set()
    assert left_in(english, english.replace("lang='en'>", "lang='da'>", 1), data, kept=set()) >= {"Save", "My startup"}
