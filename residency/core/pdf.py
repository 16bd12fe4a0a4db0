"""Documents as PDF: a template rendered to HTML, laid out by WeasyPrint (with Debian's Pango), fetching nothing.

What is rendered holds user input (an application's answers), so the document may not reach
anything outside itself: every URL — an image, a stylesheet, a font, a ``file:`` path, even a
``data:`` URI — is refused before it is opened, and there is no base URL to resolve a relative
one against. The styles come inline with the HTML; the fonts are the system's (fontconfig).
"""
from __future__ import annotations

import logging

from flask import render_template
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

# WeasyPrint says so on its logger for each refused resource; one line per image in an answer is noise.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class RefusingFetcher(URLFetcher):
    """A fetcher that opens no URL of any kind; WeasyPrint leaves the resource out."""

    refused: list[str]

    def __init__(self):
        super().__init__(allowed_protocols=(), allow_redirects=False, timeout=0)
        self.refused = []

    def fetch(self, url, headers=None):
        self.refused.append(url)
        raise ValueError("documents fetch nothing")


def fonts() -> FontConfiguration:
    """The system's fonts as WeasyPrint finds them; give one to a series of documents (a zip of many):
    finding them again for each costs a third of a small document's time. Not for sharing between threads."""
    return FontConfiguration()


def html_to_pdf(html: str, fetcher: RefusingFetcher | None = None, font_config: FontConfiguration | None = None) -> bytes:
    """The PDF of a complete HTML document (its styles inline)."""
    document = HTML(string=html, base_url=None, url_fetcher=fetcher or RefusingFetcher())
    return document.write_pdf(font_config=font_config or fonts())


def render_pdf(template: str, font_config: FontConfiguration | None = None, **context) -> bytes:
    """The PDF of an HTML template (in the reader's language, as any template), e.g. ``dossier/application.html``.
    The domain hands its read model here, as it hands e-mails to the outbox: it renders no template itself."""
    return html_to_pdf(render_template(template, **context), font_config=font_config)
