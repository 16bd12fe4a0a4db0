"""Two web servers on two machines with one PostgreSQL behave as one service (issue 13, item 5).

Two gunicorn servers, as the README's production section runs them (RESIDENCY_ENV=production, one
secret key for both), each with an instance folder of its own, share the test database. One
browser talks to either, as behind a load balancer: a file uploaded through one downloads through
the other, a sign-in made on one is recognised by the other, and a logout on one ends it on both.

Production cookies are Secure and these servers speak plain HTTP on loopback (PROXY_HOPS=0, no TLS
in front), so the browser here keeps and sends its cookies by hand, as a browser behind the TLS of
a load balancer would."""
from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import select

from residency.core.attachments import CHUNK_BYTES, AttachmentBlob
from residency.core.extensions import db
from residency.domain.applications.models import Attachment

from tests.factories import PASSWORD

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
EDIT_ID = re.compile(r'name="loaded_edit_id"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="loaded_edit_id"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn of the service, on its own port, with its own instance folder."""

    def __init__(self, name: str, folder: Path, env: dict):
        self.name, self.folder, self.port = name, folder, free_port()
        folder.mkdir()
        self.log_path = folder.parent / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{self.port}", "residency:create_app()"],
            cwd=ROOT, env=env | {"RESIDENCY_INSTANCE_PATH": str(folder)}, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait(self, seconds: float = 30) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline and self.process.poll() is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server {self.name} did not come up:\n{self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


class Browser:
    """One person's browser behind the load balancer: one set of cookies, whichever server answers."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, server: Server, method: str, path: str, fields: dict | None = None,
                file: tuple[str, str, bytes] | None = None, cookies: dict | None = None):
        headers = {"User-Agent": "two-servers-test"}
        jar = self.cookies if cookies is None else cookies
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        body = None
        if file is not None:
            boundary = secrets.token_hex(12)
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in (fields or {}).items()]
            field, filename, data = file
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if cookies is None:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    if "expires=thu, 01 jan 1970" in value.lower() or "max-age=0" in value.lower():
                        self.cookies.pop(key.strip(), None)
                    else:
                        self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response, data

    def page(self, server: Server, path: str) -> str:
        response, data = self.request(server, "GET", path)
        assert response.status == 200, (server.name, path, response.status, response.getheader("Location"))
        return data.decode()


@pytest.fixture
def two_servers(app, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESIDENCY_")}
    env.pop("TEST_DATABASE_URL", None)
    env.update(RESIDENCY_ENV="production", RESIDENCY_SECRET_KEY=secrets.token_urlsafe(48),
               RESIDENCY_PUBLIC_BASE_URL="https://residency.example.org",
               RESIDENCY_SQLALCHEMY_DATABASE_URI=os.environ["TEST_DATABASE_URL"], RESIDENCY_LOG_JSON="false")
    servers = [Server(name, tmp_path / f"machine-{name}", env) for name in ("a", "b")]
    try:
        for server in servers:
            server.wait()
        yield servers
    finally:
        for server in servers:
            server.stop()
        db.session.remove()


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "attachments" in p.parts]


def test_two_servers_on_one_database_share_attachments_and_sign_ins(two_servers, make):
    a, b = two_servers
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    application = make.application(startup=startup, author=founder)
    browser = Browser()

    # Not signed in yet: B sends the browser to the login form.
    response, _ = browser.request(b, "GET", "/startup/")
    assert response.status == 302 and "/account/login" in response.getheader("Location")

    # Signed in through A, recognised by B.
    token = CSRF.search(browser.page(a, "/account/login")).group(1)
    response, body = browser.request(a, "POST", "/account/login", {"csrf_token": token, "email": founder.email,
                                                                     "password": PASSWORD})
    assert response.status == 302, body[:500]
    assert founder.name in browser.page(b, "/startup/")

    # The form comes from B, the upload goes to A (its CSRF token is good on either), the download comes from B.
    form = browser.page(b, f"/startup/applications/{application.id}")
    edit = EDIT_ID.search(form)
    data = b"%PDF-1.7\n" + secrets.token_bytes(2 * CHUNK_BYTES + 12345)  # three chunks from the database
    response, body = browser.request(a, "POST", f"/startup/applications/{application.id}",
                                     {"csrf_token": CSRF.search(form).group(1), "intent": "save",
                                      "loaded_edit_id": (edit.group(1) or edit.group(2) or "") if edit else ""},
                                     file=("attachments", "pitch-deck.pdf", data))
    assert response.status == 302, body[:1000]
    attachment = db.session.scalar(select(Attachment).where(Attachment.application_id == application.id))
    assert attachment is not None and attachment.size_bytes == len(data)
    assert db.session.scalar(select(AttachmentBlob.size_bytes).where(AttachmentBlob.stored_name == attachment.stored_name)) \
        == len(data)
    assert files_in(a.folder) == [] and files_in(b.folder) == []  # in the database, on neither machine

    download = f"/startup/applications/{application.id}/attachments/{attachment.id}"
    response, body = browser.request(b, "GET", download)
    assert response.status == 200, (response.status, b.tail())
    assert body == data
    assert response.getheader("Content-Type") == "application/pdf"
    assert int(response.getheader("Content-Length")) == len(data)
    assert "pitch-deck.pdf" in response.getheader("Content-Disposition")

    # Logged out on B: refused on A, for this browser and for any copy of its cookies made before.
    copied = dict(browser.cookies)
    token = CSRF.search(browser.page(b, "/startup/")).group(1)
    response, _ = browser.request(b, "POST", "/account/logout", {"csrf_token": token})
    assert response.status == 302
    for cookies in (None, copied):
        for path in ("/startup/", download):
            response, _ = browser.request(a, "GET", path, cookies=cookies)
            assert response.status == 302 and "/account/login" in response.getheader("Location"), (path, cookies)
