"""Shared test set-up: fake credentials and Powertools settings before anything imports them."""

from __future__ import annotations

import os

# Powertools reads these when autopilot.observability builds its logger and metrics.
os.environ.update(
    POWERTOOLS_SERVICE_NAME="ecs-autopilot",
    POWERTOOLS_METRICS_NAMESPACE="ECSAutopilot",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
)
# Never let a test reach a real account or a developer's profile.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
