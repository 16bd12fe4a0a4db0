"""Every count is said with its plural form (issue 14, item 2): "1 office desk", "1 kontorplass",
never "1 office desks" or "1 kontorplasser"."""
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from residency.core.errors import Conflict
from residency.core.extensions import db
from residency.domain.placements import hubs
from residency.domain.programme.models import HubCapacity
from tests.scenarios import nominated_placements, offer


@pytest.mark.parametrize("language, one, wrong", [("en", "1 office desk ", "1 office desks"),
                                                  ("nb", "1 kontorplass ", "1 kontorplasser"),
                                                  ("sv", "1 kontorsplats ", "1 kontorsplatser")])
def test_a_booked_period_names_one_desk_in_the_singular(make, app, language, one, wrong):
    hub_admin, [placement] = nominated_placements(make)
    offer(placement, hub_admin, desks=1, benches=0)
    period = db.session.scalar(select(HubCapacity).where(HubCapacity.hub_id == placement.hub_id))
    with app.test_request_context(), force_locale(language), pytest.raises(Conflict) as refused:
        hubs.delete_capacity(actor=hub_admin, hub_id=placement.hub_id, capacity_id=period.id)
        db.session.rollback()
    with app.test_request_context(), force_locale(language):
        said = str(refused.value)
    assert one in said and wrong not in said, said
