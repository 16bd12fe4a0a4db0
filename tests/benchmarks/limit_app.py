"""The two reference apps ``bench_pages.py`` measures beside the service, on the same gunicorn settings.

- ``create_hello()``: a bare Flask app answering "Hello, World!" (what gunicorn and Flask cost alone);
- ``create_limit()``: the "limit page", the least a list page of the service can do: check a signed
  session cookie, run one query that uses an index to fetch 25 rows (the primary key of
  ``application``, joined to ``organisation`` by its primary key), and render a Jinja template,
  compiled once, of about a page's size (``BENCH_PAGE_BYTES``, default 40,000 bytes: the review queue's
  page of 25 rows).

    gunicorn --workers 2 'tests.benchmarks.limit_app:create_limit()'   # with BENCH_DATABASE_URL, BENCH_SECRET_KEY

GET /login on the limit app sets the session its page then requires (403 without it).
"""
from __future__ import annotations

import os
import random

from flask import Flask, abort, session
from sqlalchemy import create_engine, text

# One statement; both tables are read through their primary key indexes.
QUERY = text(
    "SELECT a.id, a.status, a.track, a.trl, a.created_at, a.updated_at, o.name AS startup "
    "FROM application a JOIN organisation o ON o.id = a.startup_id "
    "WHERE a.id > :after ORDER BY a.id LIMIT 25"
)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Applications · Nordic Residency Exchange</title>
<link rel="stylesheet" href="/static/css/pico.min.css"><link rel="stylesheet" href="/static/css/residency.css"></head>
<body><header class="container"><nav><ul><li><a href="/"><strong>Nordic Residency Exchange</strong></a></li></ul>
<ul>{% for label, href in nav %}<li><a href="{{ href }}">{{ label }}</a></li>{% endfor %}</ul></nav></header>
<main class="container"><h1>Applications</h1>
<table><thead><tr><th>#</th><th>Startup</th><th>Status</th><th>Track</th><th>TRL</th><th>Created</th><th>Updated</th></tr></thead>
<tbody>{% for row in rows %}<tr><td><a href="/cluster/applications/{{ row.id }}">{{ row.id }}</a></td><td>{{ row.startup }}</td>
<td><span class="status status-{{ row.status }}">{{ row.status|replace('_', ' ')|capitalize }}</span></td><td>{{ row.track or '' }}</td>
<td>{{ row.trl or '' }}</td><td>{{ row.created_at }}</td><td>{{ row.updated_at }}</td></tr>{% endfor %}</tbody></table>
<section>{% for item in filler %}<article class="filler"><h3>{{ item.title }}</h3><p>{{ item.text }}</p>
<a href="{{ item.href }}">{{ item.link }}</a></article>{% endfor %}</section></main>
<footer class="container"><small>Nordic Residency Exchange</small></footer></body></html>"""

NAV = [("Calls", "/calls"), ("Cluster", "/cluster/"), ("Insight", "/insight/"), ("Notifications", "/account/notifications"),
       ("Exports", "/exports/"), ("Calendar feed", "/calendar")]


def create_hello() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello():
        return "Hello, World!"

    return app


def create_limit() -> Flask:
    app = Flask(__name__)
    app.secret_key = os.environ["BENCH_SECRET_KEY"]
    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM application")).scalar() or 25
    template = app.jinja_env.from_string(PAGE)  # compiled once, as the service's templates are after their first use
    target = int(os.environ.get("BENCH_PAGE_BYTES", "40000"))
    with engine.connect() as conn:
        sample = conn.execute(QUERY, {"after": 0}).all()
    base = len(template.render(rows=sample, filler=[], nav=NAV).encode())
    one = {"title": "Residency at the hub", "text": "Office desks and lab benches beside the hub's scientists, for up to a year.",
           "href": "/calls", "link": "Read more"}
    per_item = len(template.render(rows=[], filler=[one], nav=[]).encode()) - len(template.render(rows=[], filler=[], nav=[]).encode())
    filler = [dict(one, title=f"{one['title']} {i}") for i in range(max(0, (target - base) // max(1, per_item)))]

    @app.get("/login")
    def login():
        session["uid"] = 1
        return "signed in"

    @app.get("/")
    def page():
        if session.get("uid") is None:  # the session cookie's signature was checked to read it
            abort(403)
        with engine.connect() as conn:
            rows = conn.execute(QUERY, {"after": random.randint(0, max(0, top - 25))}).all()
        return template.render(rows=rows, filler=filler, nav=NAV)

    return app
