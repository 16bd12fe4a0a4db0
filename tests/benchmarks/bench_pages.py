"""Benchmark: the busiest pages under load, on a `seed-scale` database, against a bare Flask app and a "limit page".

    .venv/bin/flask --app residency seed-scale                      # once, into the database below
    .venv/bin/python -m tests.benchmarks.bench_pages --url postgresql+psycopg://postgres@127.0.0.1:5432/residency_scale
    .venv/bin/python -m tests.benchmarks.bench_pages --url sqlite:////tmp/scale/s1.sqlite3 --json /tmp/bench-sqlite.json

Needs wrk (Debian: ``apt-get install -y wrk``). It starts the service as the README's production section
does (gunicorn, sync workers; 2 here, ``--workers``), with RESIDENCY_ENV=production and a random secret
key, and beside it, on the same gunicorn settings, a bare Flask "hello" app and the "limit page"
(``limit_app.py``: a signed-session check, one indexed query fetching 25 rows, a compiled template of
a page's size). Each demo role logs in through the real login form (the CSRF token read from the form)
and the pages are loaded with its session cookie.

Measured for every page: the five the issue names (the applicant dashboard, the review queue of the
biggest call, the hub inbox, the funder queue and the programme insight) and every other list page a
role reaches from its dashboard (its links parsed; same-site GET pages only, no per-record pages,
forms or downloads). For each, in-process with the Flask test client: the SQL statements of one
request (a ``before_cursor_execute`` counter), its size and its time alone; under load with wrk
(``--threads`` 2, ``--connections`` 8, ``--duration`` 10 s after a ``--warmup`` of 2 s): req/s and the
p50/p95/p99 latencies, the server's own time per request (from the service's JSON request log; any
answer but 200 is reported as an error), and the ratio to hello and to the limit page, whose runs are
interleaved with the pages' (before the first, after every ``--reference-every`` pages, and after the
last) so that a busy machine shows in both. After each warm-up the requests it left queued are waited
out; a page that takes seconds gets a longer window (4 x its time alone x connections / workers, at
most ``--max-duration``), since its 8 connections queue for longer than 10 s. Prints a table and writes
everything as JSON (``--json``). Not a test: the figures go into the notes.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser

from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "residency-demo"
USER_AGENT = "bench_pages"
ROLES = {  # role: (demo login, dashboard)
    "applicant": ("startup@demo.test", "/startup/"),
    "cluster": ("cluster@demo.test", "/cluster/"),
    "hub": ("hub@demo.test", "/hub/"),
    "funder": ("funder@demo.test", "/funder/"),
    "admin": ("admin@demo.test", "/admin/"),
}
# Lists scoped by an organisation are list pages; any other id in a route names one record.
LIST_ARGS = {"hub_id"}
SKIP_ENDPOINTS = {"auth.logout", "static", "public.set_language"}
DOWNLOAD = re.compile(r"\.(csv|xlsx|ics|json|pdf)$")

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"p50\\":%d,\\"p90\\":%d," ..
    "\\"p95\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"mean\\":%.1f,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d," ..
    "\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


# ------------------------------------------------------------------ a small HTTP client with cookies

class Browser:
    """Keeps cookies by hand: production cookies are Secure, and this talks plain HTTP on loopback."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                val = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in value.lower() or "max-age=0" in value.lower():
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
        conn.close()
        return response.status, dict(response.getheaders()), data

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    m = CSRF.search(html)
    if not m:
        raise SystemExit("no csrf_token in the login form")
    return m.group(1) or m.group(2)


def log_in(browser, email: str) -> None:
    """Through the real login form: GET it, read its CSRF token, POST it with the session cookie it set."""
    status, _h, body = browser.request("GET", "/account/login")
    if status != 200:
        raise SystemExit(f"GET /account/login answered {status}")
    token = csrf_token(body.decode())
    status, headers, body = browser.request("POST", "/account/login", {"csrf_token": token, "email": email, "password": PASSWORD})
    if status != 302:
        raise SystemExit(f"logging in as {email} answered {status}: {body[:300]!r}")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


# ------------------------------------------------------------------ servers and load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, name: str, app_spec: str, env: dict, workers: int, log_dir: str):
        self.name, self.port = name, free_port()
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        # As the README's production section runs it: sync workers (the default), bound to one port.
        self.process = subprocess.Popen([gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}", app_spec],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, path: str = "/", timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} server exited; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} server did not answer within {timeout} s; see {self.log_path}")

    def log_size(self) -> int:
        self.log.flush()
        return os.path.getsize(self.log_path)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@dataclass
class Load:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: dict
    server_ms: float | None = None
    duration_s: int | None = None


def wrk(binary: str, script: str, url: str, cookie: str | None, args, duration: int) -> Load:
    command = [binary, f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency", "--timeout", "60s",
               "-s", script]
    # The User-Agent the login sent: Flask-Login's session protection ties the session to it.
    command += ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    data = json.loads(next(line for line in out.splitlines() if line.startswith("WRK-JSON "))[9:])
    seconds = data["duration_us"] / 1e6
    errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return Load(rps=data["requests"] / seconds, p50_ms=data["p50"] / 1000, p95_ms=data["p95"] / 1000, p99_ms=data["p99"] / 1000,
                max_ms=data["max"] / 1000, requests=data["requests"], errors=errors)


def drain(browser: "Browser", path: str, workers: int) -> None:
    """Wait out what the warm-up left queued: one request per worker, sent after it, returns once the worker is free."""
    threads = [threading.Thread(target=browser.request, args=("GET", path)) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def server_times(server: Gunicorn, start: int, path: str) -> tuple[float | None, dict]:
    """From the service's JSON request log since ``start``: the median of its own durations for ``path``, and the
    statuses it answered (anything but 200 means the page was not what was measured)."""
    durations, statuses = [], {}
    with open(server.log_path, "rb") as fh:
        fh.seek(start)
        for line in fh:
            if b'"duration_ms"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("path") == path and "duration_ms" in entry:
                durations.append(entry["duration_ms"])
                statuses[entry.get("status")] = statuses.get(entry.get("status"), 0) + 1
    return (statistics.median(durations) if durations else None), statuses


# ------------------------------------------------------------------ what is measured


@dataclass
class Page:
    role: str
    path: str
    endpoint: str
    key: str | None = None  # which of the five pages, if one
    statements: int | None = None
    bytes: int | None = None
    inprocess_ms: float | None = None
    load: Load | None = None
    ratio_hello: float | None = None
    ratio_limit: float | None = None
    notes: list = field(default_factory=list)


def key_pages(app) -> list[Page]:
    """The five pages of the issue, for the demo accounts: the review queue of the biggest call of the
    cluster, the inbox of the hub."""
    from residency.core.extensions import db
    from residency.domain.accounts.models import Organisation
    from residency.domain.applications.models import Application
    from residency.domain.programme.models import Call, Route

    with app.app_context():
        org = {name: db.session.scalar(select(Organisation.id).where(Organisation.name == name))
               for name in ("Oslo Cancer Cluster", "AstraZeneca BioVentureHub")}
        biggest = db.session.execute(
            select(Application.call_id, func.count()).join(Call, Call.id == Application.call_id).join(Route)
            .where(Route.cluster_id == org["Oslo Cancer Cluster"]).group_by(Application.call_id)
            .order_by(func.count().desc()).limit(1)).first()
        db.session.remove()
    if biggest is None or org["AstraZeneca BioVentureHub"] is None:
        raise SystemExit("the database has no seed-scale data: run `flask --app residency seed-scale` first")
    return [
        Page("applicant", "/startup/", "applicant.dashboard", "applicant dashboard"),
        Page("cluster", f"/cluster/queue?call={biggest[0]}", "cluster.queue", "review queue"),
        Page("hub", f"/hub/{org['AstraZeneca BioVentureHub']}/inbox", "hub.inbox", "hub inbox"),
        Page("funder", "/funder/funding", "funder.funding_queue", "funder queue"),
        Page("admin", "/insight/", "insight.dashboard", "programme insight"),
    ]


def discover(app, clients: dict, pages: list[Page]) -> list[Page]:
    """Every other list page each role's dashboard links to: same-site GET pages, one per endpoint and role,
    no per-record pages (an id other than an organisation's), forms, downloads or actions."""
    adapter = app.url_map.bind("localhost")
    seen = {(p.role, p.endpoint) for p in pages}
    public_seen = set()
    found = []
    for role, (_email, dashboard) in ROLES.items():
        response = clients[role].get(dashboard)
        candidates = [dashboard] + links_of(response.get_data(as_text=True))
        for href in candidates:
            parts = urllib.parse.urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or DOWNLOAD.search(parts.path):
                continue
            if parts.path.rstrip("/").rsplit("/", 1)[-1] in ("new", "edit"):
                continue
            try:
                endpoint, view_args = adapter.match(parts.path, method="GET")
            except Exception:  # noqa: BLE001 - not a GET page of the app (a redirect, a 404, a POST-only route)
                continue
            if endpoint in SKIP_ENDPOINTS or endpoint.startswith("api") or set(view_args) - LIST_ARGS:
                continue
            if (role, endpoint) in seen:
                continue
            if endpoint.startswith("public."):
                if endpoint in public_seen:
                    continue
                public_seen.add(endpoint)
            seen.add((role, endpoint))
            found.append(Page(role, href if parts.query else parts.path, endpoint))
    return found


def count_statements(app, clients: dict, pages: list[Page]) -> None:
    """In-process: the SQL statements, the size and the time of one request of each page (after a first one)."""
    from residency.core.extensions import db

    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def before(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        for page in pages:
            client = clients[page.role]
            first = client.get(page.path)
            if first.status_code != 200:
                page.notes.append(f"in-process GET answered {first.status_code}")
                continue
            times = []
            for i in range(3):
                counter["n"] = 0
                t0 = time.perf_counter()
                response = client.get(page.path)
                times.append((time.perf_counter() - t0) * 1000)
                if i == 0:
                    page.statements, page.bytes = counter["n"], len(response.get_data())
            page.inprocess_ms = statistics.median(times)
            print(f"  {page.role:9} {page.path:40} {page.statements:4} statements {page.bytes:>9,} bytes "
                  f"{page.inprocess_ms:8.1f} ms alone", flush=True)
    finally:
        event.remove(engine, "before_cursor_execute", before)


def explain(app, clients: dict, pages: list[Page], slowest: int) -> None:
    """For each page: its statements timed one by one, and the plan of the slowest ones as the database ran them
    (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    from residency.core.extensions import db

    with app.app_context():
        engine = db.engine
    timed: list = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        timed.append(((time.perf_counter() - started) * 1000, statement, parameters))

    for page in pages:
        client = clients[page.role]
        client.get(page.path)
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        timed.clear()
        try:
            client.get(page.path)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        statements = list(timed)
        total = sum(ms for ms, _s, _p in statements)
        print(f"\n=== {page.role} {page.path}: {len(statements)} statements, {total:.1f} ms in the database")
        for ms, statement, parameters in sorted(statements, key=lambda x: -x[0])[:slowest]:
            print(f"--- {ms:.1f} ms: {' '.join(statement.split())[:600]}")
            with engine.connect() as conn:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
                for row in conn.exec_driver_sql(prefix + statement, parameters):
                    print("    " + " | ".join(str(v) for v in row))


def in_process_clients(app) -> dict:
    from residency.core.extensions import db

    clients = {}
    for role, (email, _dashboard) in ROLES.items():
        client = app.test_client()
        page = client.get("/account/login")
        response = client.post("/account/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email,
                                                        "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"in-process login as {email} answered {response.status_code}")
        clients[role] = client
    with app.app_context():
        db.session.remove()
    return clients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("RESIDENCY_SQLALCHEMY_DATABASE_URI"),
                        help="the seeded database (default: RESIDENCY_SQLALCHEMY_DATABASE_URI)")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="where to write the results (default: instance/bench_pages-<database>.json)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-duration", type=int, default=120,
                        help="the longest window for a slow page (its window is 4 x its time alone x connections / workers)")
    parser.add_argument("--reference-every", type=int, default=5, help="hello and limit page again after this many pages")
    parser.add_argument("--only", default=None, help="measure only pages whose path matches this regular expression")
    parser.add_argument("--no-discover", action="store_true", help="only the five pages of the issue")
    parser.add_argument("--explain", type=int, default=0, metavar="N",
                        help="no load: print the plans of the N slowest statements of each page, and stop")
    parser.add_argument("--limit-page-bytes", type=int, default=40_000,
                        help="the limit page's size (default: about the review queue's page of 25 rows); fixed, so that "
                             "runs before and after a change compare")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))  # stop the servers on the way out
    if not args.url:
        raise SystemExit("give the seeded database with --url (or RESIDENCY_SQLALCHEMY_DATABASE_URI)")
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed; it is the load generator of this benchmark. On Debian: apt-get install -y wrk")
    url = make_url(args.url)
    label = url.get_backend_name() + ("-" + (url.database or "").rsplit("/", 1)[-1].split(".")[0] if url.database else "")
    json_path = args.json_path or os.path.join(ROOT, "instance", f"bench_pages-{label}.json")

    from residency import create_app

    secret = secrets.token_urlsafe(48)
    # The production settings, in-process too; only the cookies go without Secure, as the test client speaks HTTP.
    public = "https://residency.example.org"  # production refuses to start without its public address
    app = create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": secret, "LOG_JSON": False,
                                              "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
                                              "PUBLIC_BASE_URL": public})
    import logging

    logging.getLogger("residency.request").setLevel(logging.WARNING)
    pages = key_pages(app)
    print(f"database: {url.render_as_string(hide_password=True)}", flush=True)
    clients = in_process_clients(app)
    if not args.no_discover:
        extra = discover(app, clients, pages)
        print(f"discovered {len(extra)} more list pages: " + ", ".join(f"{p.role}:{p.path}" for p in extra), flush=True)
        pages += extra
    if args.only:
        pages = [p for p in pages if re.search(args.only, p.path)]
    if args.explain:
        explain(app, clients, pages, args.explain)
        return
    print("in-process (Flask test client), one request each:", flush=True)
    count_statements(app, clients, pages)
    page_bytes = args.limit_page_bytes

    log_dir = tempfile.mkdtemp(prefix="bench-pages-")
    env = dict(os.environ, RESIDENCY_ENV="production", RESIDENCY_SECRET_KEY=secret, RESIDENCY_SQLALCHEMY_DATABASE_URI=args.url,
               RESIDENCY_PUBLIC_BASE_URL=public,
               BENCH_DATABASE_URL=args.url, BENCH_SECRET_KEY=secret, BENCH_PAGE_BYTES=str(page_bytes), PYTHONPATH=ROOT)
    servers = {
        "app": Gunicorn("app", "residency:create_app()", env, args.workers, log_dir),
        "hello": Gunicorn("hello", "tests.benchmarks.limit_app:create_hello()", env, args.workers, log_dir),
        "limit": Gunicorn("limit", "tests.benchmarks.limit_app:create_limit()", env, args.workers, log_dir),
    }
    script = os.path.join(log_dir, "report.lua")
    with open(script, "w") as fh:
        fh.write(WRK_SCRIPT)
    references = {"hello": [], "limit": []}
    try:
        servers["app"].wait("/healthz")
        servers["hello"].wait("/")
        servers["limit"].wait("/login")
        browsers = {}
        for role, (email, _dashboard) in ROLES.items():
            browsers[role] = Browser(servers["app"].port)
            log_in(browsers[role], email)
        limit_browser = Browser(servers["limit"].port)
        limit_browser.request("GET", "/login")

        def reference() -> None:
            for name, cookie in (("hello", None), ("limit", limit_browser.cookie_header())):
                base = f"http://127.0.0.1:{servers[name].port}/"
                wrk(binary, script, base, cookie, args, args.warmup)
                load = wrk(binary, script, base, cookie, args, args.duration)
                load.duration_s = args.duration
                references[name].append(load)
                print(f"  [{name:5}] {load.rps:8.1f} req/s  p50 {load.p50_ms:7.1f}  p95 {load.p95_ms:7.1f}  "
                      f"p99 {load.p99_ms:7.1f} ms", flush=True)

        print(f"under load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s after {args.warmup} s, "
              f"gunicorn --workers {args.workers} (sync); limit page of {page_bytes:,} bytes", flush=True)
        reference()
        for i, page in enumerate(pages, start=1):
            browser = browsers[page.role]
            status, _h, _b = browser.request("GET", page.path)
            if status != 200:
                page.notes.append(f"GET answered {status} over HTTP; not measured")
                print(f"  {page.role}:{page.path} answered {status}; skipped", flush=True)
                continue
            target = f"http://127.0.0.1:{servers['app'].port}{page.path}"
            wrk(binary, script, target, browser.cookie_header(), args, args.warmup)
            drain(browser, page.path, args.workers)
            # A page that takes seconds queues its 8 connections for longer than 10 s: the window grows with it,
            # so that requests complete inside it (the load stays the same).
            duration = args.duration
            if page.inprocess_ms:
                estimate = page.inprocess_ms / 1000 * args.connections / args.workers
                duration = int(min(args.max_duration, max(args.duration, math.ceil(4 * estimate))))
            start = servers["app"].log_size()
            page.load = wrk(binary, script, target, browser.cookie_header(), args, duration)
            page.load.duration_s = duration
            page.load.server_ms, statuses = server_times(servers["app"], start, urllib.parse.urlsplit(page.path).path)
            other = {k: v for k, v in statuses.items() if k != 200}
            if other:
                page.load.errors["not 200"] = other
            load = page.load
            print(f"  {page.role:9} {page.path:40} {load.rps:8.1f} req/s  p50 {load.p50_ms:7.1f}  p95 {load.p95_ms:7.1f}  "
                  f"p99 {load.p99_ms:7.1f} ms  server {load.server_ms or 0:7.1f} ms  ({load.requests} in {duration} s)"
                  + (f"  errors {load.errors}" if load.errors else ""), flush=True)
            if i % args.reference_every == 0 and i != len(pages):
                reference()
        reference()
    finally:
        for server in servers.values():
            server.stop()

    hello = statistics.mean(r.rps for r in references["hello"])
    limit = statistics.mean(r.rps for r in references["limit"])
    for page in pages:
        if page.load is not None:
            page.ratio_hello, page.ratio_limit = page.load.rps / hello, page.load.rps / limit
    print_table(pages, references, hello, limit)
    result = {
        "database": url.render_as_string(hide_password=True), "dialect": url.get_backend_name(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
        "settings": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                     "warmup_s": args.warmup, "gunicorn_workers": args.workers, "limit_page_bytes": page_bytes},
        "rows": table_sizes(app),
        "references": {name: [asdict(r) for r in runs] for name, runs in references.items()},
        "hello_rps": hello, "limit_rps": limit,
        "pages": [asdict(p) for p in pages],
    }
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as fh:
        json.dump(result, fh, indent=2, default=str)
    print(f"results: {json_path}")


def table_sizes(app) -> dict:
    from residency.core.extensions import db

    with app.app_context():
        names = ("organisation", "user_account", "application", "review", "placement", "funding_application",
                 "status_change", "outbox_message")
        sizes = {n: db.session.scalar(select(func.count()).select_from(db.metadata.tables[n])) for n in names}
        db.session.remove()
    return sizes


def print_table(pages: list[Page], references: dict, hello: float, limit: float) -> None:
    def spread(runs):
        values = [r.rps for r in runs]
        return f"{min(values):,.0f}-{max(values):,.0f}" if len(values) > 1 else f"{values[0]:,.0f}"

    limit_p95 = statistics.median(r.p95_ms for r in references["limit"])
    print()
    print(f"hello {hello:,.0f} req/s (runs {spread(references['hello'])}); limit page {limit:,.0f} req/s "
          f"(runs {spread(references['limit'])}), p95 {limit_p95:.1f} ms")
    header = f"{'page':42} {'role':9} {'SQL':>5} {'KiB':>7} {'alone ms':>9} {'req/s':>8} {'p50':>8} {'p95':>8} {'p99':>8} " \
             f"{'server':>8} {'/hello':>7} {'/limit':>7} {'n':>6}"
    print(header)
    print("-" * len(header))
    for p in pages:
        name = (p.key + ": " if p.key else "") + p.path
        if p.load is None:
            print(f"{name[:42]:42} {p.role:9} not measured: {'; '.join(p.notes)}")
            continue
        load = p.load
        print(f"{name[:42]:42} {p.role:9} {p.statements or 0:5} {(p.bytes or 0) / 1024:7.0f} {p.inprocess_ms or 0:9.1f} "
              f"{load.rps:8.1f} {load.p50_ms:8.1f} {load.p95_ms:8.1f} {load.p99_ms:8.1f} {load.server_ms or 0:8.1f} "
              f"{p.ratio_hello:7.4f} {p.ratio_limit:7.3f} {load.requests:6}" + (f"  errors {load.errors}" if load.errors else ""))


if __name__ == "__main__":
    main()
