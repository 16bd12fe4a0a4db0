"""Insight writes its figures as the reader's language does (issue 14, item 2): decimal days "1,5"
in Norwegian, not "1.5"; months by name, not "2030-03"."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from residency.core.extensions import db
from residency.core.models import StatusChange

from tests.scenarios import programme


def _table(html, table_id):
    return re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)


def _in_norwegian(client, make, login):
    admin = make.admin()
    admin.language = "nb"
    db.session.commit()
    login(admin)
    return client.get("/insight/").get_data(as_text=True)


def test_median_days_are_written_with_the_readers_decimal_comma(client, make, login):
    programme(make, n_apps=3)
    decline = db.session.scalar(select(StatusChange).where(StatusChange.workflow == "application",
                                                           StatusChange.action == "decline"))
    submit = db.session.scalar(select(StatusChange).where(StatusChange.workflow == "application",
                                                          StatusChange.record_id == decline.record_id,
                                                          StatusChange.action == "submit"))
    decline.created_at = submit.created_at + timedelta(days=1, hours=12)
    db.session.commit()
    html = _in_norwegian(client, make, login)
    table = _table(html, "decision-times")
    # The median of a same-day decision and one after a day and a half: 0.75 days, to one decimal.
    assert "0,8" in table and not re.search(r"\d\.\d", table)
    chart = re.search(r'<svg[^>]*aria-labelledby="chart-decisions-title.*?</svg>', html, re.S).group(0)
    assert "0,8" in chart and not re.search(r">\d+\.\d", chart)


def test_occupancy_months_are_named_not_iso(client, make, login):
    programme(make, n_apps=5)
    html = _in_norwegian(client, make, login)
    rows = re.findall(r'<tr data-month="[^"]*"><th scope="row">([^<]*)</th>', html)
    assert rows, "an occupancy table with months"
    assert not [r for r in rows if re.fullmatch(r"\d{4}-\d{2}", r)], rows
