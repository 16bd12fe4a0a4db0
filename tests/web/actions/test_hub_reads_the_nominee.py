"""Issue 14: the hub reads the nominee's answers and attachments on the placement page."""
from sqlalchemy import select

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.applications import services as svc
from residency.domain.placements.models import Placement
from residency.domain.review import nominations

from tests.scenarios import PDF, complete_values


def nominated_with_a_deck(make):
    call = make.call()
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    app_ = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=app_, actor=founder, filename="deck.pdf", data=PDF)
    svc.submit(application=app_, actor=founder, values=complete_values(call, team="Two chemists and a clinician"),
               loaded_edit_id=None)
    staff = make.user(org=call.route.cluster)
    workflow.perform(app_, "start_review", staff)
    db.session.commit()
    nominations.nominate(application=app_, actor=staff, rationale="Strong")
    placement = db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
    return call, app_, placement


def test_the_hub_sees_every_answer_and_downloads_the_attachments(client, make, login):
    call, app_, placement = nominated_with_a_deck(make)
    login(make.user(org=call.route.host_hub))
    html = client.get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    assert "Two chemists and a clinician" in html  # the team answer, not shown to the hub before
    assert "Answer to funding_plans" in html
    [attachment] = app_.attachments
    link = f"/startup/applications/{app_.id}/attachments/{attachment.id}"
    assert link in html
    download = client.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def test_another_hub_cannot_download_the_nominees_attachments(client, make, login):
    call, app_, placement = nominated_with_a_deck(make)
    login(make.member("hub", country="SE"))
    [attachment] = app_.attachments
    assert client.get(f"/startup/applications/{app_.id}/attachments/{attachment.id}").status_code == 404
