"""DKK and EUR end to end on the demo programme, in a real browser: the Danish startup
(Øresund Biologics ApS) chooses Danish in the footer and applies to the Danish call at
BioVentureHub (Medicon Valley Alliance nominates); the Finnish startup (Kuura Diagnostics
Oy, browser in Finnish) submits its funding application in EUR and Business Finland's
officer (browser in English) grants it; the Finn reads the grant and the 23:59 Helsinki
deadline in Finnish and accepts. Amounts are Babel's for each page's locale. Each key page
is photographed at 390 px and 1280 px into the test's tmp dir and passes axe."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from residency.core import outbox
from residency.core.extensions import db
from residency.core.i18n import format_in_zone, format_money
from residency.demo import PASSWORD, seed
from residency.domain.accounts.models import User
from residency.domain.applications.models import Application
from residency.domain.funding.models import FundingApplication

from tests.scenarios import PDF
from tests.factories import answers_of

pytestmark = pytest.mark.e2e

WIDTHS = (390, 1280)
DANISH_CALL = "BioVentureHub residency for Danish startups"


@pytest.fixture
def demo(app):
    seed()


@pytest.fixture
def browser_in(browser, live_server):
    """Pages of browsers whose languages are the given locale (Accept-Language and navigator.language)."""
    contexts = []

    def open_page(locale):
        context = browser.new_context(base_url=live_server, locale=locale, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def tr(app, language, msgid, **values):
    """``msgid`` as the page speaks it in ``language`` (the catalogue's own text, so a better
    translation does not break the test); never the English, or the test would prove nothing."""
    with app.test_request_context(), force_locale(language):
        text = gettext(msgid, **values)
    english = msgid % values if values else msgid
    assert text != english, (language, msgid)
    return text


def babel(app, language, fn, *args):
    """What a page in ``language`` writes for an amount or a moment (Babel, through the app's own filters)."""
    with app.test_request_context(), force_locale(language):
        return fn(*args)


def plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def photograph(page, tmp_path, name):
    """Both widths; at 390 px nothing may stick out sideways (a wide table scrolls in its own box)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
        if width == 390:
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (name, overflow)
    page.set_viewport_size({"width": 1280, "height": 900})


def login(app, page, email, landing, language=None):
    t = (lambda s: tr(app, language, s)) if language else (lambda s: s)
    page.goto("/account/login")
    page.get_by_label(t("E-mail")).fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    page.wait_for_url(f"**{landing}")


def test_a_dane_applies_in_danish_and_a_finn_is_granted_in_euros(app, demo, browser_in, axe, smtp_server, tmp_path):
    da = lambda msgid, **kw: tr(app, "da", msgid, **kw)  # noqa: E731
    fi = lambda msgid, **kw: tr(app, "fi", msgid, **kw)  # noqa: E731

    # ---------------------------------------------------------------- the Dane, in Danish
    dane = browser_in("en-GB")
    login(app, dane, "oresund@demo.test", "/startup/")
    assert dane.locator("html").get_attribute("lang") == "en"
    # The footer's switcher: Danish from now on, and kept on the account.
    dane.get_by_label("Language", exact=True).select_option(label="Dansk")
    dane.get_by_role("button", name="Change language").click()
    dane.wait_for_url("**/startup/")
    assert dane.locator("html").get_attribute("lang") == "da"
    assert dane.get_by_label(da("Language"), exact=True).input_value() == "da"
    db.session.expire_all()
    assert db.session.scalar(select(User.language).where(User.email == "oresund@demo.test")) == "da"

    dane.goto("/calls")
    dane.get_by_role("link", name=DANISH_CALL).first.click()
    dane.wait_for_url(re.compile(r".*/calls/\d+$"))
    draft = db.session.scalar(select(Application).join(Application.startup).where(Application.status == "draft",
                                                                                    Application.call.has(title=DANISH_CALL)))
    call = draft.call
    # The deadline in the call's (the hub's) zone, named, as Danish writes a day and a time.
    closes = dane.locator("dt", has_text=da("Applications close")).locator("xpath=following-sibling::dd[1]").inner_text()
    assert closes == babel(app, "da", format_in_zone, call.closes_at, "Europe/Stockholm")
    assert "12.00" in closes and re.search(r"CES?T \(Europe/Stockholm\)$", closes), closes
    with app.test_request_context(), force_locale("da"):
        who = ngettext("Startups registered in %(country)s. %(cluster)s nominates %(num)d of them to %(hub)s.",
                       "Startups registered in %(country)s. %(cluster)s nominates up to %(num)d of them to %(hub)s.",
                       call.seats, country=da("Denmark"), cluster="Medicon Valley Alliance", hub="AstraZeneca BioVentureHub")
    assert not who.startswith("Startups registered")  # the Danish catalogue's, never the English
    assert who in dane.locator("#who").locator("..").inner_text()
    assert axe(dane) == []
    photograph(dane, tmp_path, "da-call")

    # The draft the demo left: complete it in Danish, attach the pitch deck, submit.
    dane.get_by_role("button", name=da("Start or continue your application")).click()
    dane.wait_for_url(f"**/startup/applications/{draft.id}")
    assert dane.get_by_label(da("What does your company do?")).input_value().startswith("Øresund Biologics develops")
    dane.get_by_label(da("Describe your technology and its stage")).fill("Bispecifikke antistoffer; in vivo-data i tre modeller.")
    dane.get_by_label(da("What expertise do you want from the hub?")).fill("Translationel og regulatorisk ekspertise.")
    dane.get_by_label(da("What do you need in the lab?")).fill("Én bænk, BSL-1.")
    dane.get_by_label(da("How is the company funded today?")).fill("Pre-seed på 4 mio. kr.")
    dane.get_by_label(da("What are your funding plans during the residency?")).fill("Ansøgning til Innovationsfonden.")
    dane.get_by_label(da("Desired start")).fill(call.residency_starts_on.isoformat())
    deck = tmp_path / "pitch-deck.pdf"
    deck.write_bytes(PDF)
    dane.get_by_role("group", name=da("Pitch deck and other documents")).get_by_label(da("Add a file")).set_input_files(str(deck))
    dane.get_by_role("button", name=da("Save draft")).click()
    dane.get_by_role("link", name="pitch-deck.pdf").wait_for()
    assert axe(dane) == []
    photograph(dane, tmp_path, "da-application-draft")
    dane.get_by_role("button", name=da("Submit application")).click()
    dane.get_by_text(da("Your application is submitted. A receipt with a copy of your answers is on its way by e-mail.")).wait_for()
    assert dane.get_by_text(da("This is a read-only copy of what you submitted.")).is_visible()
    photograph(dane, tmp_path, "da-application-submitted")
    db.session.expire_all()
    submitted = db.session.get(Application, draft.id)
    assert submitted.status == "submitted" and answers_of(submitted)["lab_needs"] == "Én bænk, BSL-1."
    assert submitted.call.route.cluster.name == "Medicon Valley Alliance"
    # The receipt goes out over real SMTP, in Danish (the language the Dane chose).
    outbox.deliver_due()
    [receipt] = [m for m in smtp_server.messages if m["To"] == "oresund@demo.test"]
    assert receipt["Subject"] == da("We have received the application of %(startup_name)s to “%(call_title)s”",
                                     startup_name=submitted.startup.name, call_title=submitted.call.title)
    assert da("The nominating cluster reviews it after the call closes. A copy of your answers follows.") \
        in receipt.get_body(("plain",)).get_content()

    # ---------------------------------------------------------------- the Finn, in Finnish (the browser's language)
    finn = browser_in("fi-FI")
    login(app, finn, "kuura@demo.test", "/startup/", "fi")
    assert finn.locator("html").get_attribute("lang") == "fi"
    finn.get_by_role("link", name=fi("Funding during the residency")).click()
    fa = db.session.scalar(select(FundingApplication).where(FundingApplication.title.like("Sepsis%")))
    eur = lambda language, amount: babel(app, language, format_money, Decimal(amount), "EUR")  # noqa: E731
    assert plain(eur("fi", "40000")) == "40 000,00 €" and plain(eur("en", "40000")) == "€40,000.00"
    row = finn.get_by_role("row", name=re.compile("Sepsis test validation"))
    assert eur("fi", "40000") in row.inner_text()  # amount requested, as Finnish writes euros
    row.get_by_role("link").click()
    finn.wait_for_url(f"**/startup/funding/{fa.id}")
    assert finn.locator("#saved-total-costs").inner_text() == eur("fi", "80000")
    assert axe(finn) == []
    finn.get_by_role("button", name=fi("Submit to %(funder)s", funder="Business Finland")).click()
    finn.get_by_text(fi("Your funding application is submitted to %(funder)s.", funder="Business Finland")).wait_for()
    assert finn.locator("#saved-amount-requested").inner_text() == eur("fi", "40000")
    photograph(finn, tmp_path, "fi-funding-submitted")

    # ---------------------------------------------------------------- Business Finland's officer, in English
    officer = browser_in("en-GB")
    login(app, officer, "business-finland@demo.test", "/funder/")
    officer.get_by_role("link", name="Funding applications").first.click()
    officer.get_by_role("heading", name="Funding applications", level=1).wait_for()
    queue = officer.get_by_role("row", name=re.compile("Kuura Diagnostics Oy"))
    assert eur("en", "40000") in queue.inner_text()
    assert axe(officer) == []
    photograph(officer, tmp_path, "en-funder-queue")
    queue.get_by_role("link", name="Kuura Diagnostics Oy").click()
    officer.get_by_role("button", name="Start the assessment").click()
    officer.get_by_text("has started").wait_for()
    officer.get_by_text("Grant", exact=True).click()
    assert "In EUR; at most €60,000.00." in plain(officer.locator("#decision").locator("..").inner_text())
    assert "Europe/Helsinki" in officer.locator("#decision").locator("..").inner_text()
    officer.get_by_label("Amount granted").fill("40000")
    officer.get_by_label("Share of eligible costs (%)").fill("50")
    officer.get_by_label("Conditions").fill("Report on the hospital study's milestones.")
    accept_by = date.today() + timedelta(days=14)
    officer.get_by_label("Accept by").fill(accept_by.isoformat())
    officer.get_by_label("Progress report due").fill((accept_by + timedelta(days=90)).isoformat())
    officer.get_by_label("Final report due").fill((accept_by + timedelta(days=240)).isoformat())
    officer.get_by_role("button", name="Grant and offer to the startup").click()
    officer.get_by_text(f"Kuura Diagnostics Oy is offered {eur('en', '40000')}").wait_for()
    assert officer.locator("#funding-status").inner_text() == "Granted, awaiting acceptance"
    assert axe(officer) == []
    photograph(officer, tmp_path, "en-funder-granted")
    db.session.expire_all()
    fa = db.session.get(FundingApplication, fa.id)
    # The offer lapses at 23:59 on the funder's clock, Helsinki, kept as that instant in UTC.
    helsinki = datetime.combine(accept_by, time(23, 59), ZoneInfo("Europe/Helsinki"))
    assert fa.offer_expires_at.replace(tzinfo=ZoneInfo("UTC")) == helsinki.astimezone(ZoneInfo("UTC"))
    assert (fa.status, fa.granted_amount, fa.scheme.currency) == ("granted", Decimal("40000.00"), "EUR")

    # ---------------------------------------------------------------- the Finn reads the offer in Finnish and accepts
    finn.reload()
    assert finn.locator("#granted-amount").inner_text() == eur("fi", "40000")
    deadline = finn.locator("#accept-by").inner_text()
    assert deadline == babel(app, "fi", format_in_zone, fa.offer_expires_at, "Europe/Helsinki")
    assert "23.59" in deadline and re.search(r"EES?T \(Europe/Helsinki\)$", deadline), deadline
    assert axe(finn) == []
    photograph(finn, tmp_path, "fi-grant-offer")
    finn.get_by_label(fi("I accept the grant on behalf of our startup, with the conditions and the report schedule "
                         "shown.")).check()
    finn.get_by_role("button", name=fi("Accept the grant offer")).click()
    finn.get_by_text(fi("You accepted the grant of %(amount)s. Request the first instalment below.",
                        amount=eur("fi", "40000"))).wait_for()
    db.session.expire_all()
    assert db.session.get(FundingApplication, fa.id).status == "in_progress"
    photograph(finn, tmp_path, "fi-grant-accepted")
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(
        f"{n}-{w}.png" for n in ("da-call", "da-application-draft", "da-application-submitted", "fi-funding-submitted",
                                 "en-funder-queue", "en-funder-granted", "fi-grant-offer", "fi-grant-accepted")
        for w in WIDTHS)
