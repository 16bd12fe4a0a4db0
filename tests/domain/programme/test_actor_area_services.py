"""Services of the startup and hub areas, called directly as views call them."""
from datetime import date

import pytest
from sqlalchemy import func, select

from residency.domain.accounts import startups as applicant
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.placements import hubs as hub_services
from residency.domain.programme.models import HubCapacity
from residency.domain.accounts.models import JoinRequest, Membership
from residency.core.outbox_models import OutboxMessage

from tests.factories import valid_org_number


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


PROFILE = dict(name="Saimaa Bio Oy", city="Lappeenranta", founded_on=date(2020, 2, 2), employees=0, track="other", trl=1)


def test_create_startup_stores_the_canonical_number(make, app):
    user = make.user()
    raw = valid_org_number("FI", 77).replace("-", "")
    with app.test_request_context():
        startup = applicant.create_startup(actor=user, country="FI", org_number=raw, **PROFILE)
    assert startup.org_number == valid_org_number("FI", 77) and startup.employees == 0
    assert count(Membership, Membership.user_id == user.id) == 1


def test_a_partner_organisations_number_is_refused_but_not_offered_for_joining(make, app):
    cluster = make.organisation("cluster", country="NO")
    with app.test_request_context(), pytest.raises(applicant.AlreadyRegistered) as refusal:
        applicant.create_startup(actor=make.user(), country="NO", org_number=cluster.org_number, **PROFILE)
    assert refusal.value.joinable is False and "org_number" in refusal.value.field_errors


def test_a_join_request_is_decided_once_and_the_requester_hears_once(make, app):
    startup = make.organisation("startup")
    first, second = make.user(org=startup), make.user(org=startup)
    newcomer = make.user()
    with app.test_request_context():
        request = applicant.request_to_join(actor=newcomer, country=startup.country, org_number=startup.org_number)
        assert count(OutboxMessage, OutboxMessage.template == "join_request") == 2
        applicant.decide_join_request(actor=first, organisation_id=startup.id, request_id=request.id, approve=True)
        with pytest.raises(Conflict):
            applicant.decide_join_request(actor=second, organisation_id=startup.id, request_id=request.id, approve=False)
    db.session.rollback()
    assert db.session.get(JoinRequest, request.id).approved is True
    assert count(Membership, Membership.user_id == newcomer.id) == 1
    assert count(OutboxMessage, OutboxMessage.template == "join_decided") == 1


def test_only_members_decide(make, app):
    startup = make.organisation("startup")
    make.user(org=startup)
    request = JoinRequest(user=make.user(), organisation=startup)
    db.session.add(request)
    db.session.commit()
    with app.test_request_context(), pytest.raises(NotFound):
        applicant.decide_join_request(actor=make.member("startup"), organisation_id=startup.id,
                                      request_id=request.id, approve=True)


def test_capacity_rules(make, app):
    hub = make.organisation("hub", country="SE")
    admin = make.user(org=hub)
    with app.test_request_context():
        hub_services.add_capacity(actor=admin, hub_id=hub.id, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 1),
                                  desks=0, benches=0)  # a one-day period with nothing free is allowed
        with pytest.raises(Invalid) as reversed_:
            hub_services.add_capacity(actor=admin, hub_id=hub.id, starts_on=date(2030, 3, 2), ends_on=date(2030, 3, 1),
                                      desks=1, benches=1)
        assert set(reversed_.value.field_errors) == {"ends_on"}
        with pytest.raises(Invalid) as negative:
            hub_services.add_capacity(actor=admin, hub_id=hub.id, starts_on=date(2030, 3, 1), ends_on=date(2030, 3, 2),
                                      desks=-1, benches=-2)
        assert set(negative.value.field_errors) == {"desks", "benches"}
        with pytest.raises(Invalid):
            hub_services.add_capacity(actor=admin, hub_id=hub.id, starts_on=date(2029, 12, 1), ends_on=date(2030, 2, 1),
                                      desks=1, benches=1)  # covers the one-day period
        with pytest.raises(NotFound):
            hub_services.add_capacity(actor=make.member("hub", country="SE"), hub_id=hub.id, starts_on=date(2031, 1, 1),
                                      ends_on=date(2031, 1, 2), desks=1, benches=1)
    assert count(HubCapacity) == 1
