"""The catalogue's words a native reader flagged (issue 14, item 6), read from the compiled catalogues
that the running service uses (`make install` compiles them): each bad string is gone and the right one
is there."""
import os
import re

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from residency.domain.applications.workflow import APPLICATION
from residency.domain.placements.workflow import PLACEMENT

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRANSLATIONS = os.path.join(ROOT, "residency", "translations")


def compiled(language: str) -> Translations:
    path = os.path.join(TRANSLATIONS, language, "LC_MESSAGES", "messages.mo")
    assert os.path.exists(path), "compile the catalogues first (make translations)"
    return Translations.load(TRANSLATIONS, [language])


def every_msgstr(language: str) -> list[str]:
    with open(os.path.join(TRANSLATIONS, language, "LC_MESSAGES", "messages.po"), "rb") as fh:
        catalogue = read_po(fh, locale=language)
    out = []
    for message in catalogue:
        if message.id:
            out.extend(message.string if isinstance(message.string, (tuple, list)) else [message.string])
    return out


def msgid(lazy) -> str:
    return lazy._args[0]


SWEDISH = {
    "Order": ("Ordning", "Sorteringsordning"),
    "Nominated by": ("Nomineras av", "Nominerad av"),
    "Nominated by %(cluster)s.": ("Nomineras av %(cluster)s.", "Nominerad av %(cluster)s."),
    "Company": ("Företaget", "Företag"),
    "Assigned to me": ("Tilldelade till mig", "Tilldelade mig"),
    "Open a route": ("Öppna en rutt", "Skapa en rutt"),
    "Release the decisions": ("Offentliggör besluten", "Skicka ut besluten"),
    "Cancelled": ("Återkallad", "Annullerad"),
    "%(year)s Q%(quarter)s": ("%(year)s Q%(quarter)s", "K%(quarter)s %(year)s"),
    "Insight": ("Översikt", "Insikter"),
}

NORWEGIAN = {
    "Release the decisions": ("Offentliggjør beslutningene", "Send ut beslutningene"),
    "Forced": ("Tvunget fram", "Overstyrt"),
    "Withdraw": ("Trekk", "Trekk tilbake"),
    "Nominations by": ("Nominasjon innen", "Nominasjonsfrist"),
    "Cancelled": ("Kansellert", "Annullert"),
}


@pytest.mark.parametrize("language, source, bad, good",
                         [("sv", k, *v) for k, v in SWEDISH.items()] + [("nb", k, *v) for k, v in NORWEGIAN.items()])
def test_the_flagged_word_is_replaced(language, source, bad, good):
    said = compiled(language).gettext(source)
    assert said != bad
    assert said == good


def test_swedish_insight_and_overview_are_two_words():
    sv = compiled("sv")
    assert sv.gettext("Insight") != sv.gettext("Overview")
    assert "Översikt" not in sv.gettext("Programme insight")


def test_swedish_cancelled_is_not_the_word_for_revoked():
    sv = compiled("sv")
    assert sv.gettext("Cancelled") != sv.gettext("Revoked")


def test_swedish_release_is_sending_out_not_publishing():
    assert not [s for s in every_msgstr("sv") if "offentliggö" in s or "offentliggjord" in s]
    assert compiled("sv").ngettext("Release the decisions and send %(num)d e-mail",
                                   "Release the decisions and send %(num)d e-mails", 2).startswith("Skicka ut besluten")


def test_norwegian_release_is_sending_out_not_publishing():
    assert not [s for s in every_msgstr("nb") if "offentliggj" in s.lower()]


def test_norwegian_reviewer_is_fagvurderer_not_saksbehandler():
    assert not [s for s in every_msgstr("nb") if "saksbehandler" in s]
    assert "fagvurderer" in compiled("nb").gettext("Two or three sentences a reviewer outside your field understands.")


def test_norwegian_quotes_are_guillemets():
    english_quotes = [s for s in every_msgstr("nb") if re.search("[“”„]", s)]
    assert not english_quotes, english_quotes[:5]
    assert "«%(name)s»" in compiled("nb").gettext("%(funder)s already has a scheme called “%(name)s”.")


def test_norwegian_application_range_has_a_singular_and_a_plural():
    nb = compiled("nb")
    one = nb.ngettext("Application %(first)s–%(last)s of %(count)s", "Applications %(first)s–%(last)s of %(count)s", 1)
    many = nb.ngettext("Application %(first)s–%(last)s of %(count)s", "Applications %(first)s–%(last)s of %(count)s", 45)
    assert one.startswith("Søknad ") and many.startswith("Søknader ")


def test_the_queue_caption_is_counted_with_ngettext():
    """The template asks for the plural by the count; English reads 'Application 1–1 of 1'."""
    source = open(os.path.join(ROOT, "templates", "cluster", "queue.html"), encoding="utf-8").read()
    assert "Applications %(first)d–%(last)d of %(total)d" not in source
    assert 'ngettext("Application %(first)s–%(last)s of %(count)s"' in source


def test_the_swedish_footer_reads_as_swedish():
    sentence = compiled("sv").gettext("A cross-Nordic startup residency exchange between life-science clusters and innovation hubs.")
    assert sentence != "Ett nordiskt utbyte där startups gör vistelser, i samarbete mellan life science-kluster och innovationshubbar."
    assert "gör vistelser" not in sentence


def test_a_clusters_decline_and_a_startups_declined_offer_are_two_msgids():
    cluster_declined = msgid(APPLICATION.states["not_nominated"].staff_label)
    offer_declined = msgid(PLACEMENT.states["declined"].applicant_label)
    assert cluster_declined != offer_declined
    for language in ("nb", "sv"):
        t = compiled(language)
        assert t.gettext(cluster_declined) != t.gettext(offer_declined)
    assert compiled("sv").gettext(cluster_declined) == "Avslagen"
    assert compiled("nb").gettext(offer_declined) == "Takket nei til tilbudet"
