"""The cluster's review desk in a real browser: a reviewer scores an application
and only then sees a colleague's review; a cluster lead starts the reviews,
spreads the reviewers, nominates up to the seats (the next nomination is
refused), declines the rest in bulk, previews and releases the decisions, and
the decision e-mails arrive over SMTP."""
import re

import pytest
from sqlalchemy import select

from residency.core import outbox, workflow
from residency.domain.review import services as reviews
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.review.models import Review

from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def _login(page, user):
    page.goto("/account/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_a_reviewer_scores_and_only_then_sees_the_other_review(page, make, axe):
    call = make.call(criteria=(("Science", "60"), ("Team", "40")))
    ada = make.user(org=call.route.cluster, name="Ada Reviewer")
    bo = make.user(org=call.route.cluster, name="Bo Reviewer")
    app_ = make.application(call=call, startup=make.organisation("startup", name="Fjordcell AS"), status="submitted")
    workflow.perform(app_, "start_review", ada)
    db.session.commit()
    reviews.assign(application=app_, actor=ada, reviewer_ids=[ada.id, bo.id])
    reviews.save_review(application=app_, actor=bo, scores={c.id: 2 for c in call.criteria}, recommendation="no",
                        comment="Bo: the team has no clinician yet.", submit=True)

    _login(page, ada)
    page.goto(f"/cluster/applications/{app_.id}")
    assert axe(page) == []
    assert page.get_by_text("1 review is submitted.").is_visible()
    assert page.get_by_text("Bo: the team has no clinician yet.").count() == 0

    page.get_by_role("group", name="Science (weight 60)").get_by_label("5", exact=True).check()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Your review is saved as a draft.").wait_for()
    # Still hidden after a draft; the draft's score is kept.
    assert page.get_by_text("Bo: the team has no clinician yet.").count() == 0
    assert page.get_by_role("group", name="Science (weight 60)").get_by_label("5", exact=True).is_checked()

    page.get_by_role("group", name="Team (weight 40)").get_by_label("4", exact=True).check()
    page.get_by_role("group", name="Your recommendation").get_by_label("Nominate", exact=True).check()
    page.get_by_label("Comment for the other reviewers").fill("Ada: first-in-class and a clear plan.")
    page.get_by_role("button", name="Submit review").click()
    page.get_by_text("Your review is submitted.").wait_for()

    page.get_by_text("Bo: the team has no clinician yet.").wait_for()
    assert page.get_by_text("Ada: first-in-class and a clear plan.").is_visible()
    # 4.60 and 2.00: a mean of 3.30 and a spread of 2.60.
    assert page.get_by_text("3.30 over 2 submitted reviews").is_visible()
    assert axe(page) == []
    db.session.expire_all()
    mine = db.session.scalar(select(Review).where(Review.reviewer_id == ada.id))
    assert str(mine.weighted_score) == "4.60" and mine.submitted_at is not None


def test_a_lead_nominates_up_to_the_seats_declines_the_rest_and_releases(page, make, axe, smtp_server):
    call = make.call(seats=2, title="BioVentureHub residency 2027")
    lead = make.user(org=call.route.cluster, name="Lena Lead")
    make.user(org=call.route.cluster, name="Mats Colleague")
    apps = {name: make.application(call=call, startup=make.organisation("startup", name=name), status="submitted")
            for name in ("Alpha Bio AS", "Beta Med AS", "Gamma Dx AS")}
    founders = {name: a.created_by.email for name, a in apps.items()}

    _login(page, lead)
    page.goto(f"/cluster/calls/{call.id}")
    # Start the review of every submitted application, after a preview.
    page.get_by_role("link", name="Start review for all submitted").click()
    assert page.get_by_text("3 applications will change").is_visible()
    assert axe(page) == []
    page.get_by_role("button", name="Start the review of 3 applications").click()
    page.get_by_text("3 done, 0 refused.").wait_for()
    assert axe(page) == []

    # Spread the reviewers evenly, after a preview.
    page.goto(f"/cluster/calls/{call.id}")
    page.get_by_role("link", name="Assign reviewers evenly").click()
    page.get_by_text("3 applications get new reviewers").wait_for()
    assert axe(page) == []
    page.get_by_role("button", name="Assign these reviewers").click()
    page.get_by_text("3 done, 0 refused.").wait_for()

    # Nominate two: the seats of the call.
    for rank, name in enumerate(("Alpha Bio AS", "Beta Med AS"), start=1):
        page.goto(f"/cluster/applications/{apps[name].id}")
        page.locator("summary", has_text="Nominate").click()
        page.get_by_label("Why do you nominate this startup?").fill(f"{name}: strong science and team.")
        page.get_by_label("Rank within the call (optional)").fill(str(rank))
        page.get_by_role("button", name="Nominate this startup").click()
        page.get_by_text(f"Nominated as number {rank}.").wait_for()
    assert axe(page) == []

    # The third is refused in plain words, and nothing changes.
    page.goto(f"/cluster/applications/{apps['Gamma Dx AS'].id}")
    page.locator("summary", has_text="Nominate").click()
    page.get_by_label("Why do you nominate this startup?").fill("Also promising.")
    page.get_by_role("button", name="Nominate this startup").click()
    page.get_by_role("alert").filter(has_text="All 2 seats of this call are taken").wait_for()
    assert page.get_by_label("Why do you nominate this startup?").input_value() == "Also promising."
    assert axe(page) == []
    db.session.expire_all()
    assert db.session.get(Application, apps["Gamma Dx AS"].id).status == "under_review"

    # Decline all that are not nominated, after a preview, with one reason and one message.
    page.goto(f"/cluster/calls/{call.id}/bulk/decline")
    page.get_by_text("1 application will be declined").wait_for()
    assert page.get_by_role("rowheader", name="Gamma Dx AS").is_visible()
    assert axe(page) == []
    page.get_by_label("Internal reason (staff only)").fill("Seats taken by stronger candidates (internal).")
    page.get_by_label("Message to the startup").fill("Thank you for applying; we hope to see you in the next call.")
    page.get_by_role("button", name="Decline 1 application").click()
    page.get_by_text("1 done, 0 refused.").wait_for()

    # Preview the e-mails, then release.
    page.goto(f"/cluster/calls/{call.id}")
    page.get_by_role("link", name="Release the decisions").click()
    page.get_by_text("Nothing has been sent yet").wait_for()
    assert page.get_by_text(re.compile("we hope to see you in the next call")).is_visible()
    assert page.get_by_text("Seats taken by stronger candidates").count() == 0
    assert axe(page) == []
    page.get_by_role("button", name="Release the decisions and send 3 e-mails").click()
    page.get_by_text("The decisions are released: 3 startups are e-mailed.").wait_for()
    assert page.get_by_role("button", name=re.compile("Release the decisions and send")).count() == 0
    assert axe(page) == []

    # The e-mails go out through the outbox over real SMTP.
    assert outbox.deliver_due()["sent"] >= 3
    decisions = {m["To"]: m for m in smtp_server.messages if not m["Subject"].startswith("We have received the application")}
    assert set(decisions) == set(founders.values())
    hub = call.route.host_hub.name
    for name in ("Alpha Bio AS", "Beta Med AS"):
        mail = decisions[founders[name]]
        assert mail["Subject"] == f"{name} is nominated for a residency at {hub} (“{call.title}”)"
        assert name in mail.get_body(("plain",)).get_content()
    declined = decisions[founders["Gamma Dx AS"]]
    body = declined.get_body(("plain",)).get_content()
    assert declined["Subject"] == "The decision on the application of Gamma Dx AS to “BioVentureHub residency 2027”"
    assert "we hope to see you in the next call" in body and "internal" not in body
