"""An embedded moto server on loopback: AWS, as far as the application can tell."""

from __future__ import annotations

import logging
import socket
from typing import Any

from autopilot_tools.local.runner import LocalRunnerError


def start_moto_server(port: int = 0) -> tuple[Any, str]:
    """Start moto on 127.0.0.1 (never all interfaces); returns the server and its endpoint."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - moto is a local-only dependency

    if port:
        _check_free(port)

    from autopilot_tools.local import moto_extensions  # noqa: PLC0415

    moto_extensions.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def _check_free(port: int) -> None:
    """Moto's server thread dies on a taken port and `start` then waits forever: ask first."""
    with socket.socket() as probe:
        # As the server binds: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise LocalRunnerError(
                f"port {port} is taken (another moto server?): stop it, or start this one with "
                f"--port {port + 1} and export AWS_ENDPOINT_URL=http://127.0.0.1:{port + 1}"
            ) from None
