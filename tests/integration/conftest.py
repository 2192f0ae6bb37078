"""Integration tier: handlers and adapters against moto in-process (`mock_aws`).

The application's resources are created from template.yaml by the local runner, and the
handlers are loaded from the template's CodeUri and Handler, as Lambda loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from autopilot import wiring
from autopilot.adapters import clients
from autopilot.local.fleet import seed_fleet
from autopilot.local.runner import LocalApp

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app() -> Iterator[LocalApp]:
    """Given the application's own resources (tables, queues, topic, rules) in moto."""
    with mock_aws():
        clients.reset()
        wiring.reset()
        local = LocalApp(ROOT, endpoint=None)
        local.ensure_resources()
        yield local
        wiring.reset()
        clients.reset()


@pytest.fixture
def services(app: LocalApp) -> dict[str, str]:
    """Given the demo fleet: service label -> service ARN."""
    with app.aws_environment():
        return seed_fleet()
