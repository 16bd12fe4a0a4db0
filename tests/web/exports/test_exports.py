"""Programme insight exports: who gets which rows, filters, CSV form, streaming and batched reads."""
from __future__ import annotations

import csv
import io
import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from residency.domain.insight import exports
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.funding.models import Disbursement, FundingApplication
from residency.domain.impact.models import ImpactSurvey
from residency.domain.accounts.models import Membership, Organisation
from residency.domain.placements.models import Placement

from tests.factories import make_scheme, valid_org_number

_numbers = itertools.count(700_000, 20)
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [int(r[0]) for r in csv_rows(response)[1:]]


def startup(country="NO", name=None) -> Organisation:
    org = Organisation(kind="startup", name=name or f"Startup {next(_numbers)}", country=country,
                       org_number=valid_org_number(country, next(_numbers)), track="drugs", trl=4)
    db.session.add(org)
    db.session.flush()
    return org


class Side:
    """One organisation family: a route (hub, cluster, funder), a call, startups and their records.

    Test setup only: statuses are written directly; the app itself only changes them through the workflow."""

    def __init__(self, make, label: str):
        self.route = make.route()
        self.call = make.call(route=self.route, title=f"Call {label}")
        self.hub, self.cluster, self.funder = self.route.host_hub, self.route.cluster, self.route.funders[0]
        self.scheme = make_scheme(self.funder)
        self.applications, self.placements, self.grants, self.surveys = [], [], [], []
        for i, status in enumerate(("draft", "submitted", "under_review", "nominated", "nominated")):
            org = startup(name=f"{label} startup {i}")
            app = Application(call_id=self.call.id, startup_id=org.id, status=status, desks=1, benches=1,
                              created_at=T0 + timedelta(days=i))
            db.session.add(app)
            db.session.flush()
            self.applications.append(app)
        for app, pstatus in zip(self.applications[3:], ("pending", "accepted")):
            dated = pstatus != "pending"
            placement = Placement(application_id=app.id, call_id=app.call_id, hub_id=self.hub.id, status=pstatus,
                                  starts_on=date(2026, 6, 1) if dated else None, ends_on=date(2026, 12, 31) if dated else None,
                                  desks=1 if dated else None, benches=1 if dated else None)
            db.session.add(placement)
            db.session.flush()
            self.placements.append(placement)
        accepted = self.placements[1]
        owner = accepted.application.startup_id
        for status in ("draft", "submitted", "in_progress"):
            granted = status == "in_progress"
            fa = FundingApplication(scheme_id=self.scheme.id, startup_id=owner, placement_id=accepted.id, status=status,
                                    title=f"{label} {status}", own_financing=Decimal("100000.01"),
                                    amount_requested=Decimal("100000.00"),
                                    granted_amount=Decimal("99999.99") if granted else None,
                                    granted_share_percent=Decimal("49.99") if granted else None)
            db.session.add(fa)
            db.session.flush()
            self.grants.append(fa)
        fa = self.grants[2]
        db.session.add_all([
            Disbursement(funding_application_id=fa.id, instalment=0, amount=Decimal("29999.99"), paid_at=T0),
            Disbursement(funding_application_id=fa.id, instalment=1, amount=Decimal("50000.01"), paid_at=T0),
            Disbursement(funding_application_id=fa.id, instalment=2, amount=Decimal("19999.99")),  # requested, unpaid
        ])
        for months in (12, 24):
            survey = ImpactSurvey(placement_id=accepted.id, startup_id=owner, months_after=months,
                                  due_on=date(2027, 12, 31) + timedelta(days=365 * (months // 12 - 1)), currency="NOK")
            db.session.add(survey)
            db.session.flush()
            self.surveys.append(survey)
        db.session.commit()


@pytest.fixture
def world(make):
    return Side(make, "A"), Side(make, "B")


def member(make, org):
    return make.user(org=org)


# ------------------------------------------------------------------ who gets which rows


def test_programme_administrator_gets_every_row_of_every_export(client, make, login, world):
    a, b = world
    login(make.admin())
    assert ids(client.get("/exports/applications.csv")) == sorted(x.id for s in world for x in s.applications)
    assert ids(client.get("/exports/placements.csv")) == sorted(x.id for s in world for x in s.placements)
    assert ids(client.get("/exports/grants.csv")) == sorted(x.id for s in world for x in s.grants)
    assert ids(client.get("/exports/surveys.csv")) == sorted(x.id for s in world for x in s.surveys)


def test_cluster_staff_get_their_calls_non_draft_applications_and_their_placements_only(client, make, login, world):
    a, b = world
    login(member(make, a.cluster))
    assert ids(client.get("/exports/applications.csv")) == sorted(x.id for x in a.applications if x.status != "draft")
    assert ids(client.get("/exports/placements.csv")) == sorted(p.id for p in a.placements)
    assert client.get("/exports/grants.csv").status_code == 403
    assert client.get("/exports/surveys.csv").status_code == 403


def test_hub_admin_gets_the_hubs_placements_only(client, make, login, world):
    a, b = world
    login(member(make, b.hub))
    assert ids(client.get("/exports/placements.csv")) == sorted(p.id for p in b.placements)
    assert client.get("/exports/applications.csv").status_code == 403


def test_funder_officer_gets_the_schemes_submitted_funding_applications_with_exact_amounts(client, make, login, world):
    a, b = world
    login(member(make, a.funder))
    response = client.get("/exports/grants.csv")
    assert ids(response) == sorted(f.id for f in a.grants if f.status != "draft")
    rows = csv_rows(response)
    header = rows[0]
    granted = dict(zip(header, next(r for r in rows[1:] if int(r[0]) == a.grants[2].id)))
    assert granted["Own financing"] == "100000.01"
    assert granted["Amount requested"] == "100000.00"
    assert granted["Granted amount"] == "99999.99"
    assert granted["Granted share (%)"] == "49.99"
    assert granted["Paid amount"] == "80000.00"  # only the paid instalments
    assert granted["Currency"] == "NOK"
    submitted = dict(zip(header, next(r for r in rows[1:] if int(r[0]) == a.grants[1].id)))
    assert submitted["Granted amount"] == "" and submitted["Paid amount"] == "0.00"
    assert "Assessment notes" not in header


def test_startup_gets_its_own_rows_as_it_sees_them_on_its_pages(client, make, login, world):
    a, b = world
    owner = a.placements[1].application.startup
    login(member(make, owner))
    response = client.get("/exports/applications.csv")
    assert ids(response) == [a.placements[1].application_id]
    row = dict(zip(*csv_rows(response)[:2]))
    # The nomination stays hidden until the cluster releases the call's decisions.
    assert row["Status code"] == "under_review"
    assert ids(client.get("/exports/placements.csv")) == [a.placements[1].id]
    assert ids(client.get("/exports/grants.csv")) == sorted(f.id for f in a.grants)
    assert ids(client.get("/exports/surveys.csv")) == sorted(s.id for s in a.surveys)

    # A nominee with a pending placement does not see it before the release, and does after.
    nominee = a.placements[0].application.startup
    login(member(make, nominee))
    assert ids(client.get("/exports/placements.csv")) == []
    a.call.decisions_released_at = T0
    db.session.commit()
    assert ids(client.get("/exports/placements.csv")) == [a.placements[0].id]
    assert dict(zip(*csv_rows(client.get("/exports/applications.csv"))[:2]))["Status code"] == "nominated"


def test_another_organisations_rows_never_appear(client, make, login, world):
    a, b = world
    foreign_names = {x.startup.name for x in b.applications}
    for org in (a.cluster, a.hub, a.funder):
        login(member(make, org))
        for kind in exports.KINDS:
            response = client.get(f"/exports/{kind}.csv")
            if response.status_code == 403:
                continue
            text = response.get_data(as_text=True)
            assert not any(name in text for name in foreign_names), (org.kind, kind)
            assert "Call B" not in text


def test_a_user_with_several_roles_gets_the_union(client, make, login, world):
    a, b = world
    user = member(make, a.cluster)
    db.session.add(Membership(user_id=user.id, organisation_id=b.hub.id))
    db.session.commit()
    login(user)
    assert ids(client.get("/exports/placements.csv")) == sorted(p.id for s in world for p in s.placements)


def test_logged_in_user_without_scope_gets_403_and_visitors_are_sent_to_log_in(client, make, login, world):
    login(make.user())
    assert client.get("/exports/").status_code == 403
    for kind in exports.KINDS:
        assert client.get(f"/exports/{kind}.csv").status_code == 403
    client.post("/account/logout")
    response = client.get("/exports/applications.csv")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


# ------------------------------------------------------------------ filters


def test_filters_by_call_status_and_dates(client, make, login, world):
    a, b = world
    login(make.admin())
    assert ids(client.get(f"/exports/applications.csv?call={b.call.id}")) == sorted(x.id for x in b.applications)
    assert ids(client.get("/exports/applications.csv?status=nominated")) == sorted(
        x.id for s in world for x in s.applications if x.status == "nominated")
    # Created on 10–14 January; 11 to 12 January takes the second and third of each call.
    assert ids(client.get("/exports/applications.csv?from=2026-01-11&to=2026-01-12")) == sorted(
        x.id for s in world for x in s.applications[1:3])
    assert ids(client.get(f"/exports/applications.csv?call={a.call.id}&status=submitted")) == [a.applications[1].id]
    assert ids(client.get("/exports/placements.csv?status=accepted&from=2026-06-01&to=2026-06-01")) == sorted(
        s.placements[1].id for s in world)
    assert ids(client.get("/exports/placements.csv?from=2026-06-02")) == []
    assert ids(client.get(f"/exports/grants.csv?call={a.call.id}&status=in_progress")) == [a.grants[2].id]
    assert ids(client.get("/exports/surveys.csv?status=due&from=2028-01-01")) == sorted(s.surveys[1].id for s in world)


def test_filters_that_make_no_sense_are_refused_with_the_page_and_no_file(client, make, login, world):
    login(make.admin())
    response = client.get("/exports/applications.csv?status=bogus&from=2026-13-01")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Choose one of the statuses." in page and "Enter a date like 2027-03-01 (year-month-day: 1 March 2027)." in page


def test_a_call_of_another_cluster_filters_to_nothing(client, make, login, world):
    a, b = world
    login(member(make, a.cluster))
    assert ids(client.get(f"/exports/applications.csv?call={b.call.id}")) == []


# ------------------------------------------------------------------ the file and the page


def test_csv_is_utf8_with_bom_iso_dates_and_defused_formulas(client, make, login, world):
    a, b = world
    org = a.applications[1].startup
    org.name = "=HYPERLINK(\"http://evil\")"
    a.applications[1].desired_start = date(2026, 9, 1)
    db.session.commit()
    login(make.admin())
    response = client.get(f"/exports/applications.csv?call={a.call.id}&status=submitted")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="applications-')
    rows = csv_rows(response)
    row = dict(zip(rows[0], rows[1]))
    assert row["Startup"] == "'=HYPERLINK(\"http://evil\")"
    assert row["Desired start"] == "2026-09-01"
    assert row["Created at (UTC)"] == "2026-01-11T12:00:00Z"
    assert row["Status"] and row["Country"] == "Norway"


def test_exports_page_lists_only_what_the_viewer_may_download(client, make, login, world):
    a, b = world
    login(member(make, a.hub))
    page = client.get("/exports/").get_data(as_text=True)
    assert "/exports/placements.csv" in page
    assert "/exports/applications.csv" not in page and "/exports/grants.csv" not in page
    assert 'href="/exports/"' in page  # the navigation link
    login(make.admin())
    page = client.get("/exports/").get_data(as_text=True)
    assert all(f"/exports/{kind}.csv" in page for kind in exports.KINDS)


# ------------------------------------------------------------------ streaming and batches


def test_the_response_is_streamed(client, make, login, world):
    login(make.admin())
    for kind in exports.KINDS:
        response = client.get(f"/exports/{kind}.csv")
        assert response.is_streamed
        response.close()


def test_the_service_reads_in_batches(app, make, world, count_queries):
    a, b = world
    admin = make.admin()
    with app.test_request_context():
        prepared = exports.export(admin, "applications", exports.ExportFilters(call_id=a.call.id), batch=2)
        with count_queries() as counted:
            body = "".join(prepared.lines())
    assert len(list(csv.reader(io.StringIO(body.lstrip("\ufeff"), newline="")))) == 1 + 5
    selects = [s for s in counted.statements if "FROM application" in s]
    assert len(selects) == 3  # 2 + 2 + 1 rows
    assert all("LIMIT" in s for s in selects)


def test_reading_is_lazy_until_the_caller_iterates(app, make, world, count_queries):
    admin = make.admin()
    with app.test_request_context():
        with count_queries() as counted:
            prepared = exports.export(admin, "placements", exports.ExportFilters(), batch=1)
        assert not [s for s in counted.statements if "FROM placement" in s]  # only the permission check ran
        with count_queries() as counted:
            assert sum(1 for _ in prepared.rows) == 4
        assert counted.n == 5  # four full batches of one, then an empty one
