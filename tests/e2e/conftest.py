"""End-to-end tier: the `autopilot local send` command, run as a user runs it, against a moto
server on loopback, with events in the exact shape AWS sends them."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from autopilot.adapters import clients
from autopilot_tools.local.fleet import seed_fleet
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.server import start_moto_server
from tests.e2e.harness import ROOT, Moto


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    server, endpoint = start_moto_server()
    yield endpoint
    server.stop()


@pytest.fixture
def moto(moto_server: str) -> Iterator[Moto]:
    """Given a moto server emptied of everything earlier tests left there."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    app = LocalApp(ROOT, moto_server)
    yield Moto(moto_server, app)
    clients.reset()


@pytest.fixture
def services(moto: Moto) -> dict[str, str]:
    """Given the demo fleet on the moto server: service label -> ARN."""
    with moto.app.aws_environment():
        return seed_fleet()
