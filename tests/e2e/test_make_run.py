"""What `make run` starts: gunicorn, the scheduler and the mail sink, on a freshly
migrated and seeded database; every demo role logs in and lands on its dashboard.
On a busy machine (8025 taken, a second checkout running) each `make run` serves and
delivers its own mail, with links to its own address. No browser is needed here."""
import email
import email.policy
import os
import re
import shlex
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from residency.demo import DEMO_LOGINS, PASSWORD
from residency.mailsink import start

pytestmark = pytest.mark.e2e

LANDING = {"admin@demo.test": "/admin/", "startup@demo.test": "/startup/", "cluster@demo.test": "/cluster/",
           "hub@demo.test": "/hub/", "funder@demo.test": "/funder/", "oresund@demo.test": "/startup/",
           "kuura@demo.test": "/startup/", "business-finland@demo.test": "/funder/"}
FLASK = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "residency"]
LINK = re.compile(r"https?://[^\s\"'<>]+")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(tmp_path: Path, port: int, **extra) -> dict:
    """The environment of one checkout: its own database, mail folder and attachments, the default mail port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESIDENCY_")}
    env.pop("TEST_DATABASE_URL", None)
    env.update(
        RESIDENCY_ENV="development",
        RESIDENCY_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/run.sqlite3",
        RESIDENCY_MAIL_SINK_DIR=str(tmp_path / "mail"),
        RESIDENCY_ATTACHMENT_DIR=str(tmp_path / "attachments"),
        PORT=str(port),
    )
    env.update(extra)
    return env


def prepare(env: dict) -> subprocess.Popen:
    """What `make run` does before it starts the service: migrate, then seed the demo."""
    script = f"{shlex.join(FLASK + ['db', 'upgrade'])} && {shlex.join(FLASK + ['seed-demo', '--if-empty'])}"
    return subprocess.Popen(["sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_until_serving(base: str, log_path: Path, proc: subprocess.Popen, seconds: float = 40) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            if "is running at" in log_path.read_text():
                return
        except OSError:  # refused, reset or timed out while gunicorn boots
            pass
        time.sleep(0.3)
    raise AssertionError(f"make run did not come up:\n{log_path.read_text()[-3000:]}")


@contextmanager
def make_run(tmp_path: Path, env: dict, wait: bool = True):
    """`make run` (residency.devserver) in a process group of its own; Ctrl-C at the end, as a person would.
    Yields the log's path, and with ``wait=False`` a function that waits until it serves."""
    log_path = tmp_path / "run.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "residency.devserver"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def until_serving():
        wait_until_serving(f"http://127.0.0.1:{env['PORT']}", log_path, proc)
        return log_path

    try:
        yield until_serving() if wait else until_serving
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # nothing of the group may outlive the test
        except ProcessLookupError:
            pass
        log.close()


@pytest.fixture
def running_service(tmp_path):
    port = free_port()
    env = service_env(tmp_path, port, RESIDENCY_MAIL_PORT=str(free_port()))
    preparing = prepare(env)
    out, _ = preparing.communicate(timeout=60)
    assert preparing.returncode == 0, out.decode()[-2000:]
    with make_run(tmp_path, env) as log_path:
        yield f"http://127.0.0.1:{port}", tmp_path, log_path


def opener_with_cookies():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def mails(folder: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))]


def text_of(message) -> str:
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def test_make_run_serves_login_and_every_demo_role_lands_on_its_dashboard(running_service):
    base, tmp_path, log_path = running_service
    assert urllib.request.urlopen(base + "/account/login").status == 200
    for email_address, _role, _org in DEMO_LOGINS:
        opener = opener_with_cookies()
        token = csrf_token(opener.open(base + "/account/login").read().decode())
        data = urllib.parse.urlencode({"csrf_token": token, "email": email_address, "password": PASSWORD}).encode()
        response = opener.open(base + "/account/login", data=data)
        assert response.geturl() == base + LANDING[email_address], email_address
        assert response.status == 200
    # The scheduler delivered the seeded receipt e-mail to the development mail sink.
    deadline = time.time() + 20
    while time.time() < deadline and not list((tmp_path / "mail").glob("*.eml")):
        time.sleep(0.5)
    assert list((tmp_path / "mail").glob("*.eml")), log_path.read_text()[-3000:]


@contextmanager
def occupied_8025():
    """A third process's mail catcher on 8025 (as another checkout's sink would be); its .messages must stay empty.
    When something else on this machine holds 8025 already, that is the busy machine we want too."""
    class Catcher:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.messages.append(envelope.content)
            return "250 OK"

    catcher = Catcher()
    catcher.messages = []
    controller = Controller(catcher, hostname="127.0.0.1", port=8025)
    try:
        controller.start()
    except OSError:
        with socket.create_connection(("127.0.0.1", 8025), timeout=2):
            pass  # taken by someone else: still busy
        yield None
        return
    try:
        yield catcher
    finally:
        controller.stop()


def request_password_reset(base: str, address: str) -> None:
    opener = opener_with_cookies()
    token = csrf_token(opener.open(base + "/account/forgot").read().decode())
    response = opener.open(base + "/account/forgot", data=urllib.parse.urlencode({"csrf_token": token, "email": address}).encode())
    assert response.status == 200 and response.geturl() == base + "/account/login"


def reset_links(folder: Path) -> list[str]:
    """The reset links, one per e-mail (its plain and its HTML part carry the same one)."""
    return [link for message in mails(folder) for link in sorted(set(LINK.findall(text_of(message)))) if "/account/reset/" in link]


def test_two_make_runs_on_a_machine_where_8025_is_taken_both_serve_and_each_delivers_its_own_mail(tmp_path):
    with occupied_8025() as catcher, ExitStack() as stack:
        checkouts = []
        for name in ("one", "two"):
            root = tmp_path / name
            root.mkdir()
            port = free_port()
            # The mail port is left at its default, 8025, which is taken; deliveries run every second;
            # one web worker each keeps the test quick on a small machine.
            env = service_env(root, port, RESIDENCY_JOB_INTERVALS='{"deliver-outbox": 1}', WEB_CONCURRENCY="1")
            checkouts.append((root, port, env))
        # Both checkouts start from the same migrated, seeded demo (made once, copied: quicker than twice).
        preparing = prepare(checkouts[0][2])
        out, _ = preparing.communicate(timeout=60)
        assert preparing.returncode == 0, out.decode()[-2000:]
        shutil.copy(checkouts[0][0] / "run.sqlite3", checkouts[1][0] / "run.sqlite3")
        # Started at the same time, as two terminals would.
        waits = [stack.enter_context(make_run(root, env, wait=False)) for root, _port, env in checkouts]
        logs = [until_serving() for until_serving in waits]

        for (root, port, _env), log_path in zip(checkouts, logs):
            log = log_path.read_text()
            # A newcomer sees where the mails go: the sink's port (not 8025) and its folder.
            sink_port = int(re.search(r"development mail sink on 127\.0\.0\.1:(\d+)", log).group(1))
            assert sink_port != 8025
            assert str(root / "mail") in log and "Links in e-mails point at http://localhost:%d/" % port in log
            request_password_reset(f"http://127.0.0.1:{port}", "startup@demo.test")

        links = {}
        for root, port, _env in checkouts:
            deadline = time.time() + 20
            while time.time() < deadline and not reset_links(root / "mail"):
                time.sleep(0.3)
            found = reset_links(root / "mail")
            assert len(found) == 1, (found, (root / "run.log").read_text()[-3000:])
            links[port] = found[0]
            # Every link in every e-mail of this checkout points at the address this `make run` serves.
            every = [link for message in mails(root / "mail") for link in LINK.findall(text_of(message))]
            base = f"http://localhost:{port}"
            assert every and all(link == base or link.startswith(base + "/") for link in every), every

        (port_one, link_one), (port_two, link_two) = links.items()
        assert link_one != link_two
        # Each reset link works on its own server (and only there: the token belongs to its database).
        for link, other in ((link_one, port_two), (link_two, port_one)):
            assert urllib.request.urlopen(link).status == 200
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(link.replace(f"localhost:{urllib.parse.urlsplit(link).port}", f"localhost:{other}"))
            assert refused.value.code == 404
        # Nothing went into the third process's sink on 8025.
        if catcher is not None:
            assert catcher.messages == []


def test_make_run_says_plainly_when_the_web_port_is_taken_and_starts_nothing(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = service_env(tmp_path, port)
        done = subprocess.run([sys.executable, "-m", "residency.devserver"], env=env, capture_output=True, text=True,
                              timeout=30)
    assert done.returncode == 1
    assert f"Port {port} is already in use" in done.stderr and "nothing was started" in done.stderr
    assert re.search(r"PORT=\d+ make run", done.stderr)
    assert not (tmp_path / "mail").exists()  # no mail sink was started either


def test_the_mail_sink_takes_a_free_port_when_its_own_is_taken_and_files_what_it_receives(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        sink = start("127.0.0.1", taken, str(tmp_path), echo=False)
        try:
            assert sink.port != taken
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
                smtp.sendmail("a@example.org", ["b@example.org"], "Subject: hello\r\n\r\nfiled\r\n")
            assert [m["Subject"] for m in mails(tmp_path)] == ["hello"]
        finally:
            sink.stop()
    # A free configured port is taken as it is.
    wanted = free_port()
    sink = start("127.0.0.1", wanted, str(tmp_path), echo=False)
    try:
        assert sink.port == wanted
    finally:
        sink.stop()
