"""Structured logs: one JSON object a line, and one line per request."""
from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import g, request

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def init_app(app) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if app.config.get("LOG_JSON", True):
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger("residency")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    access = logging.getLogger("residency.request")

    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def _log(response):
        # Paths and status only: never form bodies, so passwords never reach a log.
        access.info(
            "request",
            extra={
                "request_id": getattr(g, "request_id", None),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - getattr(g, "started", time.perf_counter())) * 1000, 1),
            },
        )
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        return response
