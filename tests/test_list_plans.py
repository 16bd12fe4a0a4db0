"""Every list page reads the large tables through an index (issue 13, item 3).

The database is seeded with `seed-scale` and analysed; each page of ``LISTS`` is requested through
the test client as the demo account that reads it, every SELECT the request runs is captured as
it was sent, and PostgreSQL explains it with sequential scans switched off: a sequential scan that
remains in a plan then means that no usable index exists, not that the table is small. Switched
off, a sequential scan gives way to a read of the whole table through any index of it (the primary
key at least), so such a read counts as well (``end_to_end``); and hash and merge joins are switched
off too, so that a join shows whether an index leads from one table to the rows of the other, which
at the test's small scale the planner would not otherwise bother with.

A list is added by adding a line to ``LISTS``.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, text

from residency.core.extensions import db
from residency.demo import PASSWORD
from residency.domain.accounts.models import Organisation
from residency.domain.applications.models import Application
from residency.domain.funding.models import FundingApplication, FundingScheme

pytestmark = pytest.mark.postgres

SCALE = 0.01
# The tables a list must never read from end to end.
LARGE = {"application", "status_change", "review", "outbox_message"}

QUEUE = "/cluster/queue?call={big_call}"
# (demo account, URL[, tables the page reads whole on purpose]): the URL's {names} are ids found in
# the seeded rows (``ids`` below).
LISTS = [
    ("cluster@demo.test", QUEUE),
    ("cluster@demo.test", QUEUE + "&dir=desc"),
    ("cluster@demo.test", QUEUE + "&page=3"),
    ("cluster@demo.test", QUEUE + "&sort=updated&dir=desc"),
    ("cluster@demo.test", QUEUE + "&sort=company"),
    ("cluster@demo.test", QUEUE + "&sort=score&dir=desc"),
    ("cluster@demo.test", QUEUE + "&sort=status"),
    ("cluster@demo.test", QUEUE + "&sort=trl"),
    ("cluster@demo.test", QUEUE + "&status=under_review"),
    ("cluster@demo.test", QUEUE + "&status=withdrawn"),
    ("cluster@demo.test", QUEUE + "&track=drugs&trl=4"),
    ("cluster@demo.test", QUEUE + "&min_score=2&max_score=4.5"),
    ("cluster@demo.test", QUEUE + "&assigned=1"),
    ("cluster@demo.test", QUEUE + "&unscored=1"),
    ("cluster@demo.test", QUEUE + "&q=bio"),
    ("cluster@demo.test", "/cluster/queue"),
    ("cluster@demo.test", "/cluster/queue?sort=score&assigned=1&min_score=1"),
    ("cluster@demo.test", "/cluster/"),
    ("funder@demo.test", "/funder/funding"),
    ("funder@demo.test", "/funder/funding?scheme={scheme}&status=submitted"),
    ("hub@demo.test", "/hub/{hub}/inbox"),
    # Every message, counted for the page's "of N": there is no condition to find them by.
    ("admin@demo.test", "/admin/outbox", {"outbox_message"}),
    ("admin@demo.test", "/admin/outbox?delivery=failed"),
    ("admin@demo.test", "/admin/outbox?delivery=sent"),
    ("admin@demo.test", "/admin/workflow/application/{big_call_application}"),
    ("cluster@demo.test", "/cluster/applications/{big_call_application}"),
]


@pytest.fixture
def seeded(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    result = app.test_cli_runner().invoke(args=["seed-scale", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def ids() -> dict[str, int]:
    big_call = db.session.execute(select(Application.call_id, func.count()).group_by(Application.call_id)
                                  .order_by(func.count().desc()).limit(1)).one()[0]
    innovation_norway = select(Organisation.id).where(Organisation.name == "Innovation Norway").scalar_subquery()
    return {
        "big_call": big_call,
        "big_call_application": db.session.scalar(select(func.max(Application.id)).where(
            Application.call_id == big_call, Application.status == "under_review")),
        "hub": db.session.scalar(select(Organisation.id).where(Organisation.name == "AstraZeneca BioVentureHub")),
        "scheme": db.session.scalar(select(FundingApplication.scheme_id).join(FundingScheme)
                                    .where(FundingScheme.funder_id == innovation_norway)
                                    .group_by(FundingApplication.scheme_id).order_by(func.count().desc()).limit(1)),
    }


def statements_of(client, url: str) -> list[tuple[str, object]]:
    """The SELECT statements a request for ``url`` runs, with their parameters, as sent to the database."""
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert response.status_code == 200, (url, response.status_code)
    return seen


# Nodes that read all their input before giving a row: below them a Limit stops nothing.
BLOCKING = {"Sort", "Hash", "Materialize", "SetOp", "WindowAgg", "Memoize"}
INDEX_SCANS = {"Index Scan", "Index Only Scan"}


def end_to_end(plan: dict, limited: bool = False) -> list[str]:
    """The large tables a plan reads from end to end, wherever the node is in the tree.

    With sequential scans off, PostgreSQL still reads a table whole through any index of it (its
    primary key at least) rather than by a sequential scan: an index scan with no index condition
    counts too, unless its rows stream into a Limit unfiltered (the index gives the list's order
    and the first rows are the page, as on a keyset page)."""
    found = []
    node, table = plan.get("Node Type"), plan.get("Relation Name")
    if table in LARGE:
        if node == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif node in INDEX_SCANS and "Index Cond" not in plan and not (limited and "Filter" not in plan):
            found.append(f"{node} on {table} using {plan.get('Index Name')} without a condition")
    if node == "Limit":
        limited = True
    elif node in BLOCKING or (node == "Aggregate" and plan.get("Strategy") in ("Plain", "Hashed")):
        limited = False
    for i, child in enumerate(plan.get("Plans", ())):
        # The inner side of a nested loop is read once per outer row; a hash is built whole.
        inner = i > 0 and node in ("Nested Loop", "Hash Join")
        found += end_to_end(child, limited and not inner)
    return found


def test_every_list_reads_the_large_tables_through_an_index(seeded, client):
    named = ids()
    assert None not in named.values(), named
    failures, explained = [], 0
    with db.engine.connect() as conn:
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            conn.exec_driver_sql(f"SET {setting} = off")
        for email, pattern, *whole in LISTS:
            url = pattern.format(**named)
            allowed = whole[0] if whole else set()
            client.post("/account/logout")
            assert client.post("/account/login", data={"email": email, "password": PASSWORD}).status_code == 302
            for statement, parameters in statements_of(client, url):
                [[plan]] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).one()
                plan = plan if isinstance(plan, dict) else json.loads(plan)[0]
                explained += 1
                scans = [scan for scan in end_to_end(plan["Plan"]) if scan.split(" on ")[1].split()[0] not in allowed]
                if scans:
                    failures.append(f"{url} ({email}): {'; '.join(sorted(set(scans)))}\n  {statement}")
        conn.rollback()
    assert explained > len(LISTS)
    assert not failures, "\n\n".join(failures)


def explain(conn, sql: str) -> dict:
    [[plan]] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql).one()
    return (plan if isinstance(plan, dict) else json.loads(plan)[0])["Plan"]


def test_the_check_finds_a_table_read_end_to_end(seeded):
    """The plan walker sees a whole-table read nested under joins and aggregates, and lets a keyset
    page through the primary key pass (so the test above can fail, and fails only for a reason)."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        whole = explain(conn, "SELECT a.status, count(*) FROM application a JOIN call c ON c.id = a.call_id "
                              "WHERE a.months + a.desks > 3 GROUP BY a.status")
        conn.exec_driver_sql("SET enable_seqscan = on")
        sequential = explain(conn, "SELECT count(*) FROM review WHERE comment LIKE 'x%%'")
        conn.exec_driver_sql("SET enable_seqscan = off")
        keyset = explain(conn, "SELECT id FROM outbox_message ORDER BY id DESC LIMIT 26")
        sorted_whole = explain(conn, "SELECT id FROM outbox_message ORDER BY recipient LIMIT 26")
        conn.rollback()
    assert [s.split(" using")[0] for s in end_to_end(whole)] == ["Index Scan on application"]
    assert end_to_end(sequential) == ["Seq Scan on review"]
    assert end_to_end(keyset) == []
    assert end_to_end(sorted_whole) != []
