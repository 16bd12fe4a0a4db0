"""All five Nordic languages beside English, end to end: offered in the footer (each named in itself),
chosen from a saved choice and then the browser's languages, stored by the database, and spoken by
e-mails, calendar feeds, dates, numbers and amounts (issue 16)."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from residency.core import i18n, outbox
from residency.core.extensions import db
from residency.core.languages import LANGUAGES
from residency.core.outbox_models import OutboxMessage
from residency.domain.accounts.models import User
from residency.domain.reminders import services as reminders
from tests.factories import PASSWORD

UTC = timezone.utc


def plain(text: str) -> str:
    """Babel separates digits and units with no-break and narrow no-break spaces: compared as spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def in_language(language: str, message: str, **values) -> str:
    with force_locale(language):
        return _(message, **values)


def test_the_one_list_names_five_nordic_languages_and_english(app):
    assert set(LANGUAGES) == {"en", "nb", "sv", "da", "fi", "is"}
    assert app.config["LANGUAGES"] == list(LANGUAGES)
    assert set(i18n.LANGUAGE_NAMES) == set(LANGUAGES)


def test_the_footer_offers_every_language_named_in_itself(client):
    html = client.get("/calls").get_data(as_text=True)
    for code, name in {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska", "da": "Dansk", "fi": "Suomi",
                       "is": "Íslenska"}.items():
        assert f'<option value="{code}" lang="{code}"' in html and f">{name}</option>" in html, code


@pytest.mark.parametrize("header, expected", [
    ("da-DK,da;q=0.9,en;q=0.5", "da"),
    ("fi-FI", "fi"),
    ("is-IS,is;q=0.9", "is"),
    ("nn-NO,nb;q=0.9", "nb"),
    ("sv-FI", "sv"),
    # A region of a better-liked language never loses to an exact tag of a worse-liked one.
    ("en-US,da;q=0.5", "en"),
    ("fo,da;q=0.8", "da"),
    ("de-DE", "en"),
])
def test_the_browser_languages_choose(client, header, expected):
    html = client.get("/calls", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{expected}"' in html
    assert f">{in_language(expected, 'Change language')}</button>" in html


@pytest.mark.parametrize("language", ["da", "fi", "is"])
def test_a_saved_choice_comes_before_the_browser_and_follows_the_account(app, client, make, language):
    user = make.member("startup")
    client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    r = client.post("/language", data={"language": language, "next": "/calls"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).language == language
    assert f'<html lang="{language}"' in client.get("/calls", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    other = app.test_client()  # another device: the account's saved language, not the browser's
    other.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert f'<html lang="{language}"' in other.get("/calls", headers={"Accept-Language": "nb"}).get_data(as_text=True)


def test_the_database_holds_every_language_and_refuses_others(make):
    for code in LANGUAGES:
        make.user(language=code)
    with pytest.raises(IntegrityError):
        make.user(language="de")
    db.session.rollback()


def test_a_deployment_can_offer_fewer_languages_but_never_one_without_a_catalogue():
    from residency import create_app

    narrow = create_app("testing", overrides={"LANGUAGES": ["en", "fi"]})
    html = narrow.test_client().get("/calls", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert '<html lang="en"' in html and 'value="da"' not in html and 'value="fi"' in html
    with pytest.raises(RuntimeError, match="de"):
        create_app("testing", overrides={"LANGUAGES": ["en", "de"]})


@pytest.mark.parametrize("language, day, moment, amount", [
    # English here is British: "1 March 2027", not Babel's American "March 1, 2027".
    ("en", "1 March 2027", "28 March 2027, 12:00 CEST (Europe/Oslo)", "€1,500.50"),
    ("nb", "1. mars 2027", "28. mars 2027, 12:00 CEST (Europe/Oslo)", "1 500,50 €"),
    ("sv", "1 mars 2027", "28 mars 2027 12:00 CEST (Europe/Oslo)", "1 500,50 €"),
    ("da", "1. marts 2027", "28. marts 2027 12.00 CEST (Europe/Oslo)", "1.500,50 €"),
    # The Finnish translator's note: "1. maaliskuuta 2027", with the ordinal dot.
    ("fi", "1. maaliskuuta 2027", "28. maaliskuuta 2027 12.00 CEST (Europe/Oslo)", "1 500,50 €"),
    ("is", "1. mars 2027", "28. mars 2027, 12:00 CEST (Europe/Oslo)", "1.500,50 EUR"),
])
def test_dates_numbers_and_amounts_follow_each_locale(app, language, day, moment, amount):
    """Issue 14: Norwegian writes "3. august 2026"; amounts are Babel's for the locale."""
    with app.test_request_context(), force_locale(language):
        assert plain(i18n.format_day(date(2027, 3, 1))) == day
        assert plain(i18n.format_in_zone(datetime(2027, 3, 28, 10, 0, tzinfo=UTC), "Europe/Oslo")) == moment
        assert plain(i18n.format_money(Decimal("1500.50"), "EUR")) == amount
        assert plain(i18n.format_number(Decimal("1500.5"))) == ("1,500.5" if language == "en" else
                                                                 "1.500,5" if language in ("da", "is") else "1 500,5")


@pytest.mark.parametrize("language, amounts", [
    ("en", ["NOK 500,000.00", "SEK 0.00", "DKK 7.00", "ISK 1,500", "€40,000.00"]),
    ("nb", ["500 000,00 NOK", "0,00 SEK", "7,00 DKK", "1 500 ISK", "40 000,00 €"]),
    ("sv", ["500 000,00 NOK", "0,00 SEK", "7,00 DKK", "1 500 ISK", "40 000,00 €"]),
    ("da", ["500.000,00 NOK", "0,00 SEK", "7,00 DKK", "1.500 ISK", "40.000,00 €"]),
])
def test_crowns_always_carry_their_code_issue_14(app, language, amounts):
    """One way to show money: never "NOK500,000.00", "kr" for four currencies, or Swedish "Nkr"."""
    given = [("500000", "NOK"), ("0", "SEK"), ("7", "DKK"), ("1500", "ISK"), ("40000", "EUR")]
    with app.test_request_context(), force_locale(language):
        assert [plain(i18n.format_money(Decimal(v), c)) for v, c in given] == amounts


def test_norwegian_writes_the_ordinal_dot_issue_14(app):
    with app.test_request_context(), force_locale("nb"):
        assert i18n.format_day(date(2026, 8, 3)) == "3. august 2026"


def test_a_reminder_queued_by_the_scheduler_is_written_in_its_readers_language(make):
    """The scheduler speaks the default language; the Finnish reader still reads a Finnish date."""
    closes_at = datetime(2031, 5, 10, 9, tzinfo=UTC)  # 12:00 in Helsinki
    call = make.call(opens_at=closes_at - timedelta(days=60), closes_at=closes_at, timezone_name="Europe/Helsinki")
    startup = make.organisation("startup", country="FI")
    finn = make.user(org=startup, language="fi")
    make.application(call=call, startup=startup, status="draft", author=finn)
    assert reminders.call_closing(closes_at - timedelta(days=6, hours=23)) == 1
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "call_closing")).one()
    assert message.language == "fi"
    mail = outbox.render(message)
    finnish_day = "10. toukokuuta 2031 12.00 EEST (Europe/Helsinki)"
    assert finnish_day in plain(mail.subject) and finnish_day in plain(mail.body) and finnish_day in plain(mail.html)
    assert "May" not in mail.body
    with force_locale("fi"):
        assert plain(outbox.subject_of(message.template, message.context)) == plain(mail.subject)


def test_a_placement_e_mail_writes_its_days_in_the_readers_language(make):
    message = make.outbox_message(template="residency_starting")
    message.language, message.context = "da", {"startup_name": "Aarhus Bio ApS", "hub_name": "BioVentureHub",
                                                "starts_on": "2030-03-01", "placement_id": 1}
    body = outbox.render(message).body
    assert "1. marts 2030" in body and "2030-03-01" not in body


def test_the_calendar_feed_speaks_the_readers_language(client, make):
    now = datetime.now(UTC)
    call = make.call(opens_at=now - timedelta(days=5), closes_at=now + timedelta(days=20), timezone_name="Atlantic/Reykjavik")
    startup = make.organisation("startup")
    reader = make.user(org=startup, language="is")
    make.application(call=call, startup=startup, status="draft", author=reader)
    client.post("/account/login", data={"email": reader.email, "password": PASSWORD})
    client.post("/calendar")
    token = db.session.get(User, reader.id).calendar_token
    feed = Calendar.from_ical(client.get(f"/calendar/{token}.ics").data)
    [event] = feed.walk("VEVENT")
    expected = in_language("is", "Application deadline: %(call)s (%(startup)s, draft not yet submitted)",
                           call=call.title, startup=startup.name)
    assert str(event["SUMMARY"]) == expected and expected != in_language(
        "en", "Application deadline: %(call)s (%(startup)s, draft not yet submitted)", call=call.title, startup=startup.name)
    assert str(feed["X-WR-CALNAME"]) == in_language("is", "Nordic Residency Exchange: %(name)s", name=reader.name)


@pytest.mark.parametrize("language, typed, amount", [
    ("da", "12.500,50", "12500.50"), ("da", "12.500", "12500.00"), ("is", "1.234.567", "1234567.00"),
    ("en", "1,500.50", "1500.50"), ("en", "12.500", "12.50"), ("nb", "12 500,50", "12500.50"),
    ("sv", "12500.5", "12500.50"), ("fi", "1 500", "1500.00"),
])
def test_amounts_are_read_as_each_language_writes_them(app, language, typed, amount):
    """A Dane types "12.500,50" as Babel shows it to him; a dot alone groups digits where the language does."""
    from residency.core import limits

    with app.test_request_context(), force_locale(language):
        assert limits.parse_money(typed) == Decimal(amount)
