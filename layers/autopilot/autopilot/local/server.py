"""An embedded moto server on loopback: AWS, as far as the application can tell."""

from __future__ import annotations

import logging
from typing import Any


def start_moto_server(port: int = 0) -> tuple[Any, str]:
    """Start moto on 127.0.0.1 (never all interfaces); returns the server and its endpoint."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - moto is a local-only dependency

    from autopilot.local import moto_extensions  # noqa: PLC0415

    moto_extensions.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"
