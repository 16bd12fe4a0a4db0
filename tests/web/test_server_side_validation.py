"""Every form is checked by the server, so its messages are in the page's language: no form lets the
browser answer first with its own, English "Please fill out this field."."""
from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORM_TAG = re.compile(r"<form\b[^>]*>", re.S)


def test_every_form_of_every_template_leaves_validation_to_the_server():
    browser_checked = [f"{path.relative_to(TEMPLATES)}: {tag}" for path in sorted(TEMPLATES.rglob("*.html"))
                       for tag in FORM_TAG.findall(path.read_text()) if "novalidate" not in tag]
    assert browser_checked == []


def test_the_record_finder_on_a_swedish_page_answers_in_swedish(make, login):
    client = login(make.admin())
    page = client.get("/admin/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    finder = re.search(r'<form[^>]*action="/admin/workflow"[^>]*>', page).group(0)
    assert "novalidate" in finder
    response = client.get("/admin/workflow?workflow=call&record_id=", headers={"Accept-Language": "sv"},
                          follow_redirects=True)
    assert "Ange ärendets nummer." in response.get_data(as_text=True)
