"""People acting at the same moment: real threads, each with its own app context,
session and database connection, on SQLite as on PostgreSQL."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from residency.core.errors import ServiceError
from residency.core.extensions import db


@contextmanager
def held_commits(seconds: float):
    """Every commit in the race waits ``seconds`` first: the winner keeps its locks
    while the others try, which is what makes a lost update show if one is possible."""

    def wait(session):
        time.sleep(seconds)

    event.listen(Session, "before_commit", wait)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", wait)


def race(app, actors, act, hold: float = 0.2, timeout: float = 90) -> dict:
    """Run ``act(actor)`` for every actor in its own thread, all released at once.

    ``act`` loads what it needs (as a view would) and calls one service. Returns
    ``{actor: "won" | refusal message | "ERROR <type>: ..."}``; an unexpected error
    is reported, never swallowed, so a 500 in production is a failure here.
    """
    barrier = threading.Barrier(len(actors), timeout=timeout)
    results: dict = {}

    def run(actor):
        with app.app_context():
            try:
                act(actor, barrier)
                results[actor] = "won"
            except ServiceError as refusal:
                results[actor] = str(refusal.message)
            except Exception as error:  # noqa: BLE001 - reported to the test
                results[actor] = f"ERROR {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(a,)) for a in actors]
    with held_commits(hold):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=timeout)
    assert all(not t.is_alive() for t in threads), "a racer never finished"
    db.session.expire_all()
    return results


def winners(results: dict) -> int:
    return list(results.values()).count("won")


def errors(results: dict) -> list:
    return [v for v in results.values() if v.startswith("ERROR")]
