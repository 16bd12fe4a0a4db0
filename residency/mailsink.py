"""A development SMTP sink: files every message it receives and prints a line.

``make run`` starts it so that the service needs no mail server on a laptop.
"""
from __future__ import annotations

import email
import email.policy
import os
import time
from datetime import datetime, timezone

from aiosmtpd.controller import Controller


class FilingHandler:
    def __init__(self, directory: str, echo: bool = True):
        self.directory = directory
        self.echo = echo
        os.makedirs(directory, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = os.path.join(self.directory, f"{stamp}.eml")
        with open(path, "wb") as fh:
            fh.write(envelope.content)
        if self.echo:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            print(f"[mail] to {', '.join(envelope.rcpt_tos)}: {message['Subject']}  ({path})", flush=True)
        return "250 Message accepted for delivery"


def serve(host: str, port: int, directory: str) -> None:
    controller = Controller(FilingHandler(directory), hostname=host, port=port)
    controller.start()
    print(f"[mail] development mail sink on {host}:{port}, filing messages in {directory}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
