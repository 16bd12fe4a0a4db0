"""Every domain's workflows, registered with the engine by ``create_app``.

The engine (``residency.core.workflow``) knows no domain; each area declares its
tables and hooks in its own ``workflow.py`` and registers them here, lowest area first.
"""
from __future__ import annotations

from residency.domain.applications import workflow as applications
from residency.domain.funding import workflow as funding
from residency.domain.impact import workflow as impact
from residency.domain.placements import workflow as placements
from residency.domain.programme import workflow as programme
from residency.domain.review import workflow as review

# In the order administrators see them in the correction form.
AREAS = (applications, review, placements, funding, programme, impact)


def register_all() -> None:
    for area in AREAS:
        area.register()
