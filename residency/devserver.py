"""``make run``: the web server, the scheduler and a development mail sink together.

Prints the URL and the demo logins; Ctrl-C stops all three.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from residency.demo import DEMO_LOGINS, PASSWORD


def main() -> int:
    port = os.environ.get("PORT", "5000")
    venv_bin = os.path.dirname(sys.executable)
    flask = [os.path.join(venv_bin, "flask"), "--app", "residency"]
    env = dict(os.environ)
    # The mail sink first, so the scheduler's first delivery run finds it listening.
    processes = [("mail sink", subprocess.Popen(flask + ["mail-sink"], env=env))]
    time.sleep(1.0)
    processes += [
        ("scheduler", subprocess.Popen(flask + ["scheduler"], env=env)),
        ("web", subprocess.Popen(
            [os.path.join(venv_bin, "gunicorn"), "--bind", f"0.0.0.0:{port}", "--workers", "2", "residency:create_app()"],
            env=env)),
    ]
    time.sleep(1.5)
    print(f"\n  Nordic Residency Exchange is running at http://localhost:{port}/\n")
    print(f"  Demo logins (password '{PASSWORD}'):")
    for email, role, _org in DEMO_LOGINS:
        print(f"    {email:<20} {role}")
    print("\n  E-mails go to the development mail sink (instance/mail/). Ctrl-C stops everything.\n", flush=True)

    def stop(*_):
        for _name, proc in processes:
            if proc.poll() is None:
                proc.terminate()
        for _name, proc in processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while all(proc.poll() is None for _n, proc in processes):
            time.sleep(0.5)
        for name, proc in processes:
            if proc.poll() is not None:
                print(f"  {name} stopped (exit {proc.returncode}); stopping the others.", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
