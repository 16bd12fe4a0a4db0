"""The sign-in is read with its account's memberships in one statement: every one of them, not the first row's."""
from residency.core.extensions import db
from residency.domain.accounts import sessions
from residency.domain.accounts.models import Membership


def test_an_account_with_three_memberships_is_signed_in_with_all_three(app, make):
    user = make.user(org=make.organisation("startup"))
    for kind in ("cluster", "hub"):
        db.session.add(Membership(user=user, organisation=make.organisation(kind)))
    db.session.commit()
    expected = {m.role for m in user.memberships}
    with app.test_request_context():
        key = sessions.open_session(user, remember=False).key
        db.session.commit()
        db.session.expunge_all()
        signed_in = sessions.signed_in_user(key)
        assert len(signed_in.memberships) == 3
        assert signed_in.roles() == expected and len(expected) == 3
