"""A development SMTP sink: files every message it receives and prints a line.

``make run`` starts it so that the service needs no mail server on a laptop. It
takes the configured port when that is free and otherwise a free port the
system chooses (another checkout or another mail catcher may hold 8025);
``make run`` runs it in its own process and points the web and scheduler
processes at the port it got, so they deliver to this sink and to no other.
"""
from __future__ import annotations

import email
import email.policy
import errno
import os
import socket
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


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or on a free port the system picks when that one is taken."""
    for candidate in (port, 0):
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does: a port in TIME_WAIT is free
        try:
            sock.bind((host, candidate))
        except OSError as error:
            sock.close()
            if candidate == 0 or error.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            continue
        sock.listen(100)
        sock.setblocking(False)
        return sock
    raise AssertionError("unreachable")


class SocketController(Controller):
    """An aiosmtpd controller serving on a socket that is already bound (so its port is known before it starts)."""

    def __init__(self, handler, sock: socket.socket, **kwargs):
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


def start(host: str, port: int, directory: str, echo: bool = True) -> SocketController:
    """Start a sink on ``host:port`` (or a free port); ``controller.port`` is where it listens."""
    controller = SocketController(FilingHandler(directory, echo=echo), bind_socket(host, port))
    controller.start()
    return controller


def describe(controller: SocketController, requested_port: int) -> str:
    """What a newcomer reads at start: where the sink listens and where it files the messages."""
    moved = (f"port {requested_port} is taken (another checkout or mail catcher?), so it uses port {controller.port}; "
             if controller.port != requested_port else "")
    return (f"[mail] development mail sink on {controller.hostname}:{controller.port}: {moved}"
            f"each message is filed as a .eml file in {os.path.abspath(controller.handler.directory)}{os.sep}")


def serve(host: str, port: int, directory: str) -> None:
    """``flask mail-sink``: serve until Ctrl-C."""
    controller = start(host, port, directory)
    print(describe(controller, port), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
