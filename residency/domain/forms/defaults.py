"""The programme's default application form: the questions every call asked before calls had
forms of their own. A new call copies it (``services.start_form``); it is built from these
definitions, in every language the service offers, the first time it is needed."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l

SECTIONS = [
    ("company", _l("Company")),
    ("team", _l("Team")),
    ("technology", _l("Technology and stage")),
    ("residency", _l("The residency you want")),
    ("funding", _l("Funding")),
    ("attachments", _l("Attachments")),
]

# (section, key, kind, binding, label, help, settings)
QUESTIONS = [
    ("company", "summary", "long_text", None, _l("What does your company do?"),
     _l("Two or three sentences a reviewer outside your field understands."), {"max_chars": 1500}),
    ("team", "team", "long_text", None, _l("Who is in the team?"),
     _l("Founders and key people, their roles and backgrounds."), {"max_chars": 4000}),
    ("technology", "track", "single_choice", "track", _l("Track"), None, {}),
    ("technology", "trl", "trl", "trl", _l("Technology readiness level (TRL)"), None, {}),
    ("technology", "technology", "long_text", None, _l("Describe your technology and its stage"),
     _l("What it is, what has been shown so far, and what comes next."), {"max_chars": 4000}),
    ("residency", "expertise", "long_text", None, _l("What expertise do you want from the hub?"),
     _l("For example regulatory, translational or clinical expertise."), {"max_chars": 4000}),
    ("residency", "lab_needs", "long_text", None, _l("What do you need in the lab?"),
     _l("Equipment, biosafety level, chemicals; write 'none' if you need no lab."), {"max_chars": 4000}),
    ("residency", "desired_start", "date", "desired_start", _l("Desired start"), None, {}),
    ("residency", "months", "number", "months", _l("Duration in months"), _l("From 1 to 24 months."), {"min": 1, "max": 24}),
    ("residency", "desks", "number", "desks", _l("Office desks"), None, {"min": 0, "max": 50}),
    ("residency", "benches", "number", "benches", _l("Lab benches"), None, {"min": 0, "max": 50}),
    ("funding", "funding_status", "long_text", None, _l("How is the company funded today?"),
     _l("Capital raised, grants and revenue so far."), {"max_chars": 4000}),
    ("funding", "funding_plans", "long_text", None, _l("What are your funding plans during the residency?"),
     _l("For example an application to your home country's funder."), {"max_chars": 4000}),
    ("attachments", "attachments", "file", "attachments", _l("Pitch deck and other documents"),
     _l("PDF or image, at most 10 MB each and 5 in all."), {"types": ["pdf", "image"], "max_mb": 10, "max_files": 5}),
]
