"""The local demo's dashboard figures: the dashboard's own charts over the EMF records the
functions logged."""

from __future__ import annotations

import json

from autopilot_tools.dashboard import CHARTS
from autopilot_tools.local.figures import collect, figures, statistic


def emf(**values: list[float]) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 0,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "ECSAutopilot",
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name} for name in values],
                    }
                ],
            },
            "service": "ecs-autopilot",
            **values,
        }
    )


def test_figures_come_from_the_logged_records_with_the_dashboards_statistics() -> None:
    # Given function logs with EMF records among ordinary log lines
    lines = [
        '{"level": "INFO", "message": "action finished"}',
        emf(DeployDeployed=[1.0], PushToDeployStarted=[100.0]),
        emf(DeployDeployed=[1.0, 1.0], PushToDeployStarted=[300.0, 200.0]),
        emf(RollbackRolledBack=[1.0], AlarmToRollbackStarted=[50.0]),
        "not json",
    ]

    # When the figures are computed
    values = collect(lines)
    shown = figures(values)

    # Then each chart's statistics are those CloudWatch computes over the same values
    assert values["DeployDeployed"] == [1.0, 1.0, 1.0]
    assert statistic("p50", values["PushToDeployStarted"]) == 200.0
    assert statistic("p95", values["PushToDeployStarted"]) == 300.0
    assert shown[0] == f"{CHARTS[0].title}: deploys 3, rollbacks 1, pushes held -"
    assert shown[1] == f"{CHARTS[1].title}: p50 200 ms, p95 300 ms"
    assert len(shown) == len(CHARTS)
