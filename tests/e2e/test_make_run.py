"""What `make run` starts: gunicorn, the scheduler and the mail sink, on a freshly
migrated and seeded database; every demo role logs in and lands on its dashboard."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest

from residency.demo import DEMO_LOGINS, PASSWORD

pytestmark = pytest.mark.e2e

LANDING = {"admin@demo.test": "/admin/", "startup@demo.test": "/startup/", "cluster@demo.test": "/cluster/",
           "hub@demo.test": "/hub/", "funder@demo.test": "/funder/"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_service(tmp_path):
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    port, mail_port = free_port(), free_port()
    env.update(
        RESIDENCY_ENV="development",
        RESIDENCY_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/run.sqlite3",
        RESIDENCY_MAIL_PORT=str(mail_port),
        RESIDENCY_MAIL_SINK_DIR=str(tmp_path / "mail"),
        PORT=str(port),
    )
    flask = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "residency"]
    subprocess.run(flask + ["db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo", "--if-empty"], env=env, check=True, capture_output=True)
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "residency.devserver"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:  # refused, reset or timed out while gunicorn boots
            time.sleep(0.3)
    yield base, tmp_path, log
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, as a person would
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # nothing of the group may outlive the test
    except ProcessLookupError:
        pass
    log.close()


def test_make_run_serves_login_and_every_demo_role_lands_on_its_dashboard(running_service):
    base, tmp_path, log = running_service
    assert urllib.request.urlopen(base + "/account/login").status == 200
    for email, _role, _org in DEMO_LOGINS:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/account/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
        response = opener.open(base + "/account/login", data=data)
        assert response.geturl() == base + LANDING[email], email
        assert response.status == 200
    # The scheduler delivered the seeded receipt e-mail to the development mail sink.
    deadline = time.time() + 20
    while time.time() < deadline and not list((tmp_path / "mail").glob("*.eml")):
        time.sleep(0.5)
    assert list((tmp_path / "mail").glob("*.eml")), open(log.name).read()[-3000:]
