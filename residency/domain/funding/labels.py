"""Words shown for the funding codes (budget categories, report kinds, instalment
milestones), shared by the startup's, the funder's and the administrator's pages."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l

from residency.domain.funding.models import BUDGET_CATEGORIES, REPORT_KINDS

CATEGORY_LABELS = {
    "personnel": _l("Personnel"),
    "equipment": _l("Equipment"),
    "consumables": _l("Consumables"),
    "services": _l("Purchased services"),
    "rent": _l("Rent of desks and benches"),
    "travel": _l("Travel"),
    "other": _l("Other costs"),
}
assert set(CATEGORY_LABELS) == set(BUDGET_CATEGORIES)

REPORT_LABELS = {"progress": _l("Progress report"), "final": _l("Final report")}
assert set(REPORT_LABELS) == set(REPORT_KINDS)
# The same inside a sentence ("Your progress report for … is due").
REPORT_LABELS_IN_SENTENCE = {"progress": _l("progress report"), "final": _l("final report")}


def report_kind_label(code: str | None) -> str:
    return str(REPORT_LABELS_IN_SENTENCE.get(code, code or ""))

MILESTONE_LABELS = {
    "acceptance": _l("after the grant offer is accepted"),
    "progress_report": _l("after the progress report is approved"),
    "final_report": _l("after the final report is approved"),
}

# The same as the choices of the instalment editor (“Paid: After the progress report is approved”).
MILESTONE_CHOICES = {
    "acceptance": _l("After the grant offer is accepted"),
    "progress_report": _l("After the progress report is approved"),
    "final_report": _l("After the final report is approved"),
}


def labels() -> dict:
    """For render_template(**labels())."""
    return dict(category_labels=CATEGORY_LABELS, report_labels=REPORT_LABELS, milestone_labels=MILESTONE_LABELS)
