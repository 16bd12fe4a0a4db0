"""``make run``: the web server, the scheduler and a development mail sink together.

Prints the URL, the demo logins and where the e-mails are filed; Ctrl-C stops all three.

On a busy machine (another checkout running, another mail catcher on 8025):

- the mail sink runs in this process and takes its configured port (``MAIL_PORT``, 8025)
  when that is free, otherwise a free port the system picks; the web and scheduler
  processes are told which (``RESIDENCY_MAIL_SERVER``/``RESIDENCY_MAIL_PORT``), so this
  checkout's e-mails reach this checkout's sink and no other;
- the web port (``PORT``, 5000) is the address you asked for, so it is never changed behind
  your back: when it is taken, ``make run`` says so, suggests a free one and starts nothing;
- links in e-mails point at the address served here (``RESIDENCY_PUBLIC_BASE_URL`` is set to
  ``http://localhost:<PORT>`` for both processes unless you set it yourself);
- ``WEB_CONCURRENCY`` sets the number of gunicorn workers (2).
"""
from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from flask import Flask

import config
from residency import mailsink
from residency.demo import DEMO_LOGINS, PASSWORD

START_TIMEOUT = 60  # seconds for the web server to come up on a slow machine


def port_taken(port: int) -> bool:
    """Whether another process listens on ``port`` (gunicorn binds 0.0.0.0, so that is what is tried)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is free
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def _suggest(port: int) -> int | None:
    for candidate in range(port + 1, min(port + 50, 65536)):
        if not port_taken(candidate):
            return candidate
    return None


def _wait_for_web(port: int, processes) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and all(proc.poll() is None for _n, proc in processes):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # it answers (a 503 from the health check is still an answer)
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    raw_port = os.environ.get("PORT", "5000")
    try:
        port = int(raw_port)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        print(f"\n  PORT={raw_port!r} is not a port number; use, for example, PORT=5001 make run\n", file=sys.stderr)
        return 2
    if port_taken(port):
        suggestion = _suggest(port)
        hint = f"  Pick a free one, for example:  PORT={suggestion} make run\n" if suggestion else ""
        print(f"\n  Port {port} is already in use by another program (another `make run`?), so nothing was started.\n"
              f"{hint}", file=sys.stderr, flush=True)
        return 1

    # The settings (RESIDENCY_* included) and the instance folder that create_app gives the other processes.
    app = Flask("residency", instance_relative_config=True)
    config.load(app)
    settings, instance_path = app.config, app.instance_path
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = mailsink.start("127.0.0.1", settings["MAIL_PORT"], os.path.join(instance_path, settings["MAIL_SINK_DIR"]))
    base_url = (os.environ.get("RESIDENCY_PUBLIC_BASE_URL") or f"http://localhost:{port}").rstrip("/")
    env = dict(os.environ, RESIDENCY_MAIL_SERVER=sink.hostname, RESIDENCY_MAIL_PORT=str(sink.port),
               RESIDENCY_PUBLIC_BASE_URL=base_url)
    venv_bin = os.path.dirname(sys.executable)
    flask = [os.path.join(venv_bin, "flask"), "--app", "residency"]
    processes: list[tuple[str, subprocess.Popen]] = []
    stopped = []

    def stop(*_):
        if stopped:
            return
        stopped.append(True)
        for _name, proc in processes:
            if proc.poll() is None:
                proc.terminate()
        for _name, proc in processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        sink.stop()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        processes += [
            ("scheduler", subprocess.Popen(flask + ["scheduler"], env=env)),
            ("web", subprocess.Popen(
                [os.path.join(venv_bin, "gunicorn"), "--bind", f"0.0.0.0:{port}", "--workers", env.get("WEB_CONCURRENCY", "2"),
                 # A zip of the review queue's PDFs may take a minute (README, Production).
                 "--timeout", "120", "residency:create_app()"],
                env=env)),
        ]
        if not _wait_for_web(port, processes):
            print(f"  The web server did not start on port {port} (see above); stopping the others.", file=sys.stderr, flush=True)
            return 1
        print(f"\n  Nordic Residency Exchange is running at http://localhost:{port}/\n")
        print(f"  Demo logins (password '{PASSWORD}'):")
        for email, role, _org in DEMO_LOGINS:
            print(f"    {email:<28} {role}")
        moved = f" (port {settings['MAIL_PORT']} was taken)" if sink.port != settings["MAIL_PORT"] else ""
        print(f"\n  E-mails are not sent out: the development mail sink on {sink.hostname}:{sink.port}{moved} files each one\n"
              f"  as a .eml file in {os.path.abspath(sink.handler.directory)}{os.sep} and prints a line for it below.\n"
              f"  Links in e-mails point at {base_url}/.  Ctrl-C stops everything.\n", flush=True)
        while all(proc.poll() is None for _n, proc in processes):
            time.sleep(0.5)
        for name, proc in processes:
            if proc.poll() is not None:
                print(f"  {name} stopped (exit {proc.returncode}); stopping the others.", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
