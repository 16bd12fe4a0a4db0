"""The unit of work: one transaction per public service.

A public service is decorated with ``@service`` (or opens ``unit_of_work()``
itself): everything it does commits once at its end, and any error rolls all
of it back, so a refused command leaves the session clean. Helpers only
``flush``. A service called from inside another joins the outer unit; only the
outermost one commits.

Bulk actions and scheduler jobs act item by item: ``savepoint()`` keeps one
item's refusal from undoing the others, and ``each_in_own_unit`` gives every
item a unit of its own, so one bad record never stops (or rolls back) the rest.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import wraps
from typing import Callable, Iterable, Iterator

from .extensions import db

_DEPTH = "residency.uow_depth"


def in_unit_of_work() -> bool:
    return db.session.info.get(_DEPTH, 0) > 0


@contextmanager
def unit_of_work() -> Iterator:
    """Commit once when the outermost unit ends; roll back on any error."""
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def service(fn: Callable) -> Callable:
    """Run ``fn`` as a public service: in one unit of work, committed once."""

    @wraps(fn)
    def run(*args, **kwargs):
        with unit_of_work():
            return fn(*args, **kwargs)

    run.__residency_service__ = True
    return run


@contextmanager
def savepoint() -> Iterator:
    """Inside a unit of work: undo only this block if it fails (the error still propagates)."""
    with db.session.begin_nested():
        yield


def each_in_own_unit(items: Iterable, act: Callable, on_error: Callable | None = None) -> int:
    """Run ``act(item)`` for every item, each in a unit of work of its own.

    A failing item is rolled back alone and reported to ``on_error(item, error)``;
    the others go on. Returns how many items succeeded.
    """
    done = 0
    for item in items:
        try:
            with unit_of_work():
                act(item)
            done += 1
        except Exception as error:  # noqa: BLE001 - one bad record must not stop the rest
            if on_error is not None:
                on_error(item, error)
    return done
