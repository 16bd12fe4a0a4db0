"""A draft withdrawn without ever being submitted stays the startup's own: cluster staff cannot
open it, and it is in no queue, count, CSV or export of theirs (issue 12, item 5)."""
import csv
import io


from residency.core.extensions import db
from residency.domain.accounts.scope import Scope
from residency.domain.applications import services as applications
from residency.domain.insight import services as insight
from residency.domain.review import queries
from tests.factories import give_answers


def rows(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def _withdrawn_draft_and_submitted(make):
    call = make.call()
    draft = make.application(call=call)
    founder = draft.created_by
    give_answers(draft, {"team": "A secret team"})
    db.session.commit()
    applications.withdraw(application=draft, actor=founder, reason="Our investor said no")
    submitted = make.application(call=call, status="submitted")
    applications.withdraw(application=submitted, actor=submitted.created_by, reason="Found another hub")
    staff = make.user(org=call.route.cluster)
    return call, draft, submitted, staff


def test_cluster_staff_get_404_for_a_draft_withdrawn_unsubmitted(make, client, login):
    call, draft, submitted, staff = _withdrawn_draft_and_submitted(make)
    login(staff)
    r = client.get(f"/cluster/applications/{draft.id}")
    assert r.status_code == 404
    assert "Our investor said no" not in r.get_data(as_text=True)
    assert client.get(f"/cluster/applications/{submitted.id}").status_code == 200
    # The startup still sees its own.
    login(draft.created_by)
    assert client.get(f"/startup/applications/{draft.id}").status_code == 200


def test_it_is_in_no_queue_count_csv_or_export_of_the_cluster(make, client, login):
    call, draft, submitted, staff = _withdrawn_draft_and_submitted(make)
    login(staff)
    queue_ids = [int(r[0]) for r in rows(client.get("/cluster/queue.csv?status=withdrawn"))[1:]]
    assert queue_ids == [submitted.id]
    assert [int(r[0]) for r in rows(client.get("/cluster/queue.csv"))[1:]] == [submitted.id]
    export = rows(client.get("/exports/applications.csv"))
    assert [int(r[0]) for r in export[1:]] == [submitted.id]
    assert "Our investor said no" not in client.get(f"/cluster/calls/{call.id}").get_data(as_text=True)
    [line] = queries.dashboard(staff)
    assert line.counts == {"withdrawn": 1}
    assert [a.id for a in queries.call_page(staff, call.id).applications] == [submitted.id]


def test_the_funnel_counts_neither(make):
    call, draft, submitted, staff = _withdrawn_draft_and_submitted(make)
    funnel = insight.funnel(Scope.of(staff), insight.Filters())
    assert funnel.totals["applied"] == 0


def test_an_application_submitted_once_then_sent_back_to_draft_and_withdrawn_stays_visible(make, client, login):
    call = make.call()
    application = make.application(call=call, status="submitted")
    admin = make.admin()
    from residency.core import workflow

    workflow.perform(application, "revert", admin, reason="submitted by mistake")
    db.session.commit()
    applications.withdraw(application=application, actor=application.created_by, reason="never mind")
    login(make.user(org=call.route.cluster))
    assert client.get(f"/cluster/applications/{application.id}").status_code == 200
