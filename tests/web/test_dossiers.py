"""Issue 15 item 6: an application as a PDF dossier (real WeasyPrint; the text read back with pypdf),
and a zip of the PDFs of a filtered review queue."""
from __future__ import annotations

import io
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from residency.core import pdf, workflow
from residency.core.extensions import db
from residency.domain.applications import dossier
from residency.domain.applications import services as svc
from residency.domain.placements.models import Placement
from residency.domain.review import dossiers as review_dossiers
from residency.domain.review import nominations

from tests.factories import give_answers
from tests.scenarios import PDF, complete_values

ANSWERS = {
    "summary": "We make antibodies against pancreatic cancer.",
    "team": "Two chemists from Ærøskøbing and a clinician.",
    "technology": "A bispecific antibody, shown in mice.",
    "expertise": "Regulatory advice on first-in-human trials.",
    "lab_needs": "A BSL-2 bench and a cold room.",
    "funding_status": "NOK 4 million raised from angels.",
    "funding_plans": "An application to Innovation Norway.",
}


def text_of(data: bytes) -> str:
    """Every page's text, its whitespace (line breaks of the layout) made single spaces."""
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def submitted(make, call=None, startup=None, answers=ANSWERS, start_review=True):
    call = call or make.call(title="Oslo to Gothenburg 2027")
    startup = startup or make.organisation("startup", name="Fjordtest Bio AS", country=call.route.home_country)
    founder = make.user(org=startup)
    app_ = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=app_, actor=founder, filename="pitch-deck.pdf", data=PDF)
    svc.submit(application=app_, actor=founder, values=complete_values(call, **answers), loaded_edit_id=None).or_raise()
    staff = make.user(org=call.route.cluster, name="Reviewer Rita")
    if start_review:
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
    return app_, founder, staff


def assert_private_pdf(response, application_id: int):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="application-{application_id}(-[a-z0-9-]+)?\.pdf"', disposition), disposition
    assert "no-store" in response.headers["Cache-Control"]  # the app-wide rule for signed-in readers wins


# ------------------------------------------------------------------ one application


def test_cluster_staff_download_the_pdf_with_every_answer_and_the_history(client, make, login):
    app_, founder, staff = submitted(make)
    login(staff)
    page = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert f'href="/cluster/applications/{app_.id}/dossier.pdf"' in page and "Download as PDF" in page
    response = client.get(f"/cluster/applications/{app_.id}/dossier.pdf")
    assert_private_pdf(response, app_.id)
    assert 'filename="application-%d-fjordtest-bio-as.pdf"' % app_.id in response.headers["Content-Disposition"]
    text = text_of(response.data)
    for answer in ANSWERS.values():
        assert answer in text
    for label in ("What does your company do?", "Who is in the team?", "Duration in months", "Lab benches"):
        assert label in text
    assert "Oslo to Gothenburg 2027" in text and "Fjordtest Bio AS" in text and app_.startup.org_number in text
    assert "Norway" in text and "Drugs" in text  # the country and the track by their names
    assert "(Europe/Stockholm)" in text  # the submission in the call's zone, named
    # Every answer in the form's order.
    positions = [text.index(ANSWERS[k]) for k in ("summary", "team", "technology", "expertise", "lab_needs",
                                                  "funding_status", "funding_plans")]
    assert positions == sorted(positions)
    assert "pitch-deck.pdf" in text and "PDF document" in text
    assert "Status history" in text and "Reviewer Rita" in text
    assert workflow.label("application", "under_review", for_applicant=False) in text


def test_the_startups_copy_has_the_answers_but_not_the_history(client, make, login):
    app_, founder, staff = submitted(make)
    login(founder)
    page = client.get(f"/startup/applications/{app_.id}").get_data(as_text=True)
    assert f'href="/startup/applications/{app_.id}/dossier.pdf"' in page
    response = client.get(f"/startup/applications/{app_.id}/dossier.pdf")
    assert_private_pdf(response, app_.id)
    text = text_of(response.data)
    for answer in ANSWERS.values():
        assert answer in text
    assert "Oslo to Gothenburg 2027" in text and "Fjordtest Bio AS" in text
    assert "Status history" not in text and "Reviewer Rita" not in text


def test_the_questions_are_in_the_readers_language(app, client, make, login):
    app_, founder, staff = submitted(make)
    staff.language = "nb"
    db.session.commit()
    login(staff)
    text = text_of(client.get(f"/cluster/applications/{app_.id}/dossier.pdf").data)
    with app.test_request_context(), force_locale("nb"):
        form = svc.form_of_application(app_)
        labels = svc.field_labels(form)
        team = next(s for s in form.sections if s.key == "team")
        expected = [labels["summary"], labels["months"], team.title["nb"],
                    svc.answer_text(form.question("desired_start"), app_.desired_start.isoformat())]
    assert expected[0] != "What does your company do?"  # a real translation, not the English
    for words in expected:
        assert " ".join(words.split()) in text
    assert "What does your company do?" not in text


def test_who_may_not_see_the_application_gets_404(client, make, login):
    app_, founder, staff = submitted(make)
    login(make.member("startup"))
    assert client.get(f"/startup/applications/{app_.id}/dossier.pdf").status_code == 404
    login(make.member("cluster"))
    assert client.get(f"/cluster/applications/{app_.id}/dossier.pdf").status_code == 404
    # The cluster's staff read the staff copy in their own area, not the startup's.
    login(staff)
    assert client.get(f"/startup/applications/{app_.id}/dossier.pdf").status_code == 404
    login(founder)
    assert client.get(f"/cluster/applications/{app_.id}/dossier.pdf").status_code == 403  # not cluster staff at all


def test_cluster_staff_never_get_a_draft(client, make, login):
    call = make.call()
    draft = make.application(call=call)
    login(make.user(org=call.route.cluster))
    assert client.get(f"/cluster/applications/{draft.id}/dossier.pdf").status_code == 404


def test_the_hub_downloads_its_nominees_pdf_and_another_hub_gets_404(client, make, login):
    app_, founder, staff = submitted(make)
    nominations.nominate(application=app_, actor=staff, rationale="Strong")
    placement = db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
    login(make.user(org=app_.call.route.host_hub))
    page = client.get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    assert f'href="/hub/placements/{placement.id}/dossier.pdf"' in page
    response = client.get(f"/hub/placements/{placement.id}/dossier.pdf")
    assert_private_pdf(response, app_.id)
    text = text_of(response.data)
    assert ANSWERS["team"] in text and "Status history" in text
    login(make.member("hub", country="SE"))
    assert client.get(f"/hub/placements/{placement.id}/dossier.pdf").status_code == 404


def test_an_administrator_downloads_it_from_the_audit_trail(client, make, login):
    app_, founder, staff = submitted(make)
    login(make.admin())
    page = client.get(f"/admin/workflow/application/{app_.id}").get_data(as_text=True)
    assert f'href="/admin/applications/{app_.id}/dossier.pdf"' in page
    response = client.get(f"/admin/applications/{app_.id}/dossier.pdf")
    assert_private_pdf(response, app_.id)
    assert "Status history" in text_of(response.data)
    login(staff)
    assert client.get(f"/admin/applications/{app_.id}/dossier.pdf").status_code == 403


class _Recorder(BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()
    server.server_close()


def test_html_in_an_answer_is_text_and_nothing_is_fetched(client, make, login, loopback_server, monkeypatch):
    base, hits = loopback_server
    asked = []
    monkeypatch.setattr(pdf.RefusingFetcher, "fetch", lambda self, url, headers=None: asked.append(url) or 1 / 0)
    trick = f'<img src="{base}/tracker.png"> <b>bold</b> <link rel="stylesheet" href="{base}/evil.css">'
    app_, founder, staff = submitted(make, answers={**ANSWERS, "summary": trick})
    login(staff)
    text = text_of(client.get(f"/cluster/applications/{app_.id}/dossier.pdf").data)
    assert f'<img src="{base}/tracker.png">' in text and "<b>bold</b>" in text  # shown as typed
    assert asked == [] and hits == []


def test_the_pdf_maker_refuses_every_url_even_in_markup(loopback_server):
    base, hits = loopback_server
    fetcher = pdf.RefusingFetcher()
    data = pdf.html_to_pdf(f'<html><head><link rel="stylesheet" href="{base}/a.css"></head><body>'
                           f'<img src="{base}/b.png"><img src="file:///etc/hostname"><p>Still here</p></body></html>',
                           fetcher)
    assert "Still here" in text_of(data)
    assert hits == []  # nothing reached the server
    assert f"{base}/b.png" in fetcher.refused and "file:///etc/hostname" in fetcher.refused


def test_a_very_long_answer_is_laid_out_on_many_pages(client, make, login):
    app_, founder, staff = submitted(make)
    # Older answers were not bounded: far beyond today's limit, one word without a break among them.
    give_answers(app_, {"technology": ("Antibodies " * 6000) + "x" * 5000})
    db.session.commit()
    login(staff)
    response = client.get(f"/cluster/applications/{app_.id}/dossier.pdf")
    assert_private_pdf(response, app_.id)
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) > 10
    assert ANSWERS["funding_plans"] in text_of(response.data)


def test_the_file_name_is_safe_ascii():
    assert dossier.filename_of(7, "Øresund Biologics ApS") == "application-7-oresund-biologics-aps.pdf"
    assert dossier.filename_of(8, 'Evil"; name=x\r\n.exe') == "application-8-evil-name-x-exe.pdf"
    assert dossier.filename_of(9, "東京") == "application-9.pdf"


# ------------------------------------------------------------------ the queue's zip


def zipped(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    assert re.fullmatch(r'attachment; filename="review-queue-\d{8}-\d{4}\.zip"', response.headers["Content-Disposition"])
    assert "no-store" in response.headers["Cache-Control"]  # the app-wide rule for signed-in readers wins
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    return archive


@pytest.fixture
def queue(make):
    """One cluster's call with three submitted applications (two on the drugs track), another call of the
    same cluster with one, and another cluster's application."""
    route = make.route()
    call = make.call(route=route, title="First call")
    second = make.call(route=route, title="Second call")
    staff = make.user(org=route.cluster)
    apps = []
    for name, track, target in (("Alpha Drugs AS", "drugs", call), ("Beta Devices AS", "devices", call),
                                ("Gamma Drugs AS", "drugs", call), ("Delta Drugs AS", "drugs", second)):
        startup = make.organisation("startup", name=name, track=track)
        app_, _founder, _staff = submitted(make, call=target, startup=startup, start_review=False,
                                           answers={**ANSWERS, "summary": f"Summary of {name}", "track": track})
        apps.append(app_)
    elsewhere, _founder, _staff = submitted(make, startup=make.organisation("startup", name="Elsewhere AS"),
                                            start_review=False)
    return staff, call, second, apps, elsewhere


def test_the_zip_holds_one_pdf_per_application_of_the_filtered_queue(client, login, queue):
    staff, call, second, apps, elsewhere = queue
    login(staff)
    page = client.get(f"/cluster/queue?call={call.id}").get_data(as_text=True)
    assert f'href="/cluster/queue.zip?call={call.id}"' in page and "Download PDFs (zip)" in page
    archive = zipped(client.get("/cluster/queue.zip?sort=company", buffered=True))
    names = archive.namelist()
    assert len(names) == 4  # every page of the queue, never another cluster's
    assert [n.split("-", 1)[0] for n in names] == ["1", "2", "3", "4"]
    assert ["alpha", "beta", "delta", "gamma"] == [re.search(r"-\d+-([a-z]+)-", n).group(1) for n in names]  # the sort
    for name, app_ in zip(names, sorted(apps, key=lambda a: a.startup.name)):
        text = text_of(archive.read(name))
        assert f"Summary of {app_.startup.name}" in text and "Status history" in text
        assert "Elsewhere AS" not in text
    drugs_of_first = zipped(client.get(f"/cluster/queue.zip?call={call.id}&track=drugs", buffered=True))
    texts = [text_of(drugs_of_first.read(n)) for n in drugs_of_first.namelist()]
    assert len(texts) == 2
    assert any("Summary of Alpha Drugs AS" in t for t in texts) and any("Summary of Gamma Drugs AS" in t for t in texts)


def test_the_zip_reads_its_data_in_a_fixed_number_of_queries(client, login, queue, make, count_queries):
    staff, call, second, apps, elsewhere = queue
    login(staff)
    with count_queries() as one:
        assert len(zipped(client.get(f"/cluster/queue.zip?call={second.id}", buffered=True)).namelist()) == 1
    with count_queries() as three:
        assert len(zipped(client.get(f"/cluster/queue.zip?call={call.id}", buffered=True)).namelist()) == 3
    assert one.n == three.n, three.statements


def test_a_queue_too_long_for_one_zip_is_refused_with_what_to_do(client, login, queue, monkeypatch):
    staff, call, second, apps, elsewhere = queue
    monkeypatch.setattr(review_dossiers, "MAX_DOSSIERS", 3)
    login(staff)
    page = client.get("/cluster/queue").get_data(as_text=True)
    assert "/cluster/queue.zip" not in page and "filter the queue further" in page
    response = client.get("/cluster/queue.zip?sort=company", buffered=True)  # four match
    assert response.status_code == 302 and response.headers["Location"].endswith("/cluster/queue?sort=company")
    assert "More than 3 applications match these filters" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(zipped(client.get(f"/cluster/queue.zip?call={call.id}", buffered=True)).namelist()) == 3


def test_the_zip_keeps_to_the_clusters_scope(client, login, make, queue):
    staff, call, second, apps, elsewhere = queue
    login(make.member("cluster"))
    assert client.get(f"/cluster/queue.zip?call={call.id}", buffered=True).status_code == 404  # another cluster's call
    response = client.get("/cluster/queue.zip", buffered=True)  # nothing of theirs
    assert response.status_code == 302
