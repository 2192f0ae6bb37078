"""The report degrades, it never fails: deleted clusters and services are reported with their
cost and marked deleted; a source that cannot be read becomes a note that says what is missing
and why; only a Cost Explorer that answers neither grouping means no report.

AWS is replayed at the HTTP level (tests/unit/aws_wire.py), so the real adapters and botocore's
parsers run: DescribeServices answers are the recorded ones in tests/unit/recorded/."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from autopilot.adapters.cloudwatch import CloudWatchGateway
from autopilot.adapters.costexplorer import CostExplorerGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.domain.report import (
    CLUSTER_DELETED,
    CLUSTER_TAG,
    SERVICE_DELETED,
    SERVICE_TAG,
    CostLine,
    CostsUnavailableError,
    Gap,
    Report,
    ServiceFacts,
    Source,
    Utilization,
    Week,
    build_report,
)
from autopilot.reporting import render
from autopilot.workflows.cost_report import ReportSources, gather
from tests.unit.aws_wire import (
    Replay,
    Wire,
    error,
    json_answer,
    recorded,
)
from tests.unit.report_fakes import cost_and_usage, days, week_of

WEEK = Week(2026, 46)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a week after: every figure is final
ACCOUNT = "123456789012"
ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service"
# prod/web runs on; prod/reports was deleted during the week (Cost Explorer still has its cost).
DAILY = {("prod", "web"): "10.00", ("prod", "reports"): "4.00"}
USAGE = {
    ("prod", "USE1-Fargate-vCPU-Hours:perCPU"): "11.20",
    ("prod", "USE1-Fargate-GB-Hours"): "2.80",
}
TOTAL = week_of("14.00")


# -- replayed AWS ------------------------------------------------------------------------------


def sources(replay: Replay) -> ReportSources:
    return ReportSources(
        costs=CostExplorerGateway(replay.client("ce")),
        cloudwatch=CloudWatchGateway(replay.client("cloudwatch")),
        ecs=EcsGateway(replay.client("ecs")),
        ledger=Ledger("ledger", 30, client=replay.client("dynamodb")),
        account=ACCOUNT,
        region="us-east-1",
    )


def metrics(cpu_used: float, memory_used: float) -> Wire:
    """Container Insights for the one running service (query index 0): used against reserved."""
    stamp = datetime(2026, 11, 10, tzinfo=UTC).timestamp()
    series = {
        "cpuutilized_0": cpu_used,
        "cpureserved_0": 1024.0,
        "memoryutilized_0": memory_used,
        "memoryreserved_0": 2048.0,
    }
    return json_answer(
        {
            "MetricDataResults": [
                {"Id": i, "Values": [v], "Timestamps": [stamp], "StatusCode": "Complete"}
                for i, v in series.items()
            ],
            "Messages": [],
        },
    )


NO_LEDGER_ENTRIES = json_answer({"Items": [], "Count": 0, "ScannedCount": 0})


def healthy(**overrides: Wire | list[Wire]) -> Replay:
    """Every source answers: costs for prod/web and prod/reports, ECS has web and no longer
    reports (MISSING), web used at most 20% CPU and 15% memory, nothing parked."""
    answers: dict[str, list[Wire]] = {
        "GetCostAndUsage": [
            json_answer(cost_and_usage(WEEK, DAILY)),
            json_answer(cost_and_usage(WEEK, USAGE, usage_type=True)),
        ],
        "DescribeServices": [recorded("ecs_active_and_missing.json")],
        "DescribeTaskDefinition": [recorded("ecs_task_definition.json")],
        "GetMetricData": [metrics(200.0, 300.0)],
        "Query": [NO_LEDGER_ENTRIES, NO_LEDGER_ENTRIES],
    }
    for operation, wires in overrides.items():
        answers[operation] = wires if isinstance(wires, list) else [wires]
    replay = Replay()
    for operation, wires in answers.items():
        replay.queue(operation, *wires)
    return replay


def labelled(report: Report) -> dict[str, tuple[Decimal, str]]:
    return {s.label: (s.this_week, s.gone) for s in report.services}


def gap_of(report: Report, source: Source) -> Gap:
    [gap] = [g for g in report.gaps if g.source is source]
    return gap


# -- deleted clusters and services ---------------------------------------------------------------


def test_a_service_deleted_and_purged_is_reported_with_its_cost_and_marked_deleted() -> None:
    # Given ECS answers MISSING for prod/reports, and Cost Explorer has its cost for the week
    replay = healthy()

    # When the report is gathered
    report = gather(sources(replay), WEEK, NOW)

    # Then it is there with its week's cost, marked deleted; the total counts it
    assert labelled(report) == {
        "prod/web": (week_of("10.00"), ""),
        "prod/reports": (week_of("4.00"), SERVICE_DELETED),
    }
    assert report.total == TOTAL
    assert any("No longer in ECS: prod/reports" in note for note in report.notes)
    # And the live service still gets its advice; no source is missing
    assert [s.kind for s in report.savings] == ["rightsizing"]
    assert report.gaps == ()


@pytest.mark.parametrize(
    "answer",
    ["ecs_service_inactive.json", "ecs_service_draining.json"],
    ids=["INACTIVE", "DRAINING"],
)
def test_a_service_deleted_recently_is_marked_deleted_and_gets_no_advice(answer: str) -> None:
    # Given only prod/reports cost money, and ECS still shows it, INACTIVE or DRAINING
    replay = healthy(
        GetCostAndUsage=[
            json_answer(cost_and_usage(WEEK, {("prod", "reports"): "4.00"})),
            json_answer(cost_and_usage(WEEK, USAGE, usage_type=True)),
        ],
        DescribeServices=recorded(answer),
        Query=NO_LEDGER_ENTRIES,
    )

    # When the report is gathered
    report = gather(sources(replay), WEEK, NOW)

    # Then it is reported, deleted; nothing is asked of its task definition or its metrics
    assert labelled(report) == {"prod/reports": (week_of("4.00"), SERVICE_DELETED)}
    assert replay.called("DescribeTaskDefinition") == 0
    assert replay.called("GetMetricData") == 0
    assert report.savings == ()


def test_a_cluster_deleted_during_the_week_is_reported_and_the_rest_is_described() -> None:
    # Given legacy/batch cost money this week and its cluster is gone (ClusterNotFoundException)
    daily = {("legacy", "batch"): "3.00", **DAILY}
    replay = healthy(
        GetCostAndUsage=[
            json_answer(cost_and_usage(WEEK, daily)),
            json_answer(cost_and_usage(WEEK, USAGE, usage_type=True)),
        ],
        DescribeServices=[
            recorded("ecs_cluster_not_found.json", status=400),
            recorded("ecs_active_and_missing.json"),
        ],
        Query=[NO_LEDGER_ENTRIES] * 3,
    )

    # When the report is gathered
    report = gather(sources(replay), WEEK, NOW)

    # Then the cluster and its service keep their cost, marked, and prod is described as usual
    assert labelled(report)["legacy/batch"] == (week_of("3.00"), CLUSTER_DELETED)
    assert {c.name: c.gone for c in report.clusters} == {"prod": "", "legacy": CLUSTER_DELETED}
    assert report.total == TOTAL + week_of("3.00")
    assert any("cluster legacy (deleted with its services)" in n for n in report.notes)
    assert [s.kind for s in report.savings] == ["rightsizing"]


# -- the ECS adapter against recorded answers ----------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        ("ecs_cluster_not_found.json", 400, "ClusterNotFoundException"),
        ("ecs_service_missing.json", 200, "MISSING"),
        ("ecs_service_inactive.json", 200, "INACTIVE"),
        ("ecs_service_draining.json", 200, "DRAINING"),
    ],
)
def test_describe_services_or_gone_says_why_each_service_is_gone(
    answer: str, status: int, reason: str
) -> None:
    # Given DescribeServices answers as ECS does for a deleted cluster or service
    replay = Replay().queue("DescribeServices", recorded(answer, status=status))

    # When the report's ECS call asks for that service
    found, gone = EcsGateway(replay.client("ecs")).describe_services_or_gone(
        [f"{ARN}/prod/reports"]
    )

    # Then it is not among the found ones, and the reason is ECS's own word for it
    assert found == []
    assert gone == {f"{ARN}/prod/reports": reason}


def test_describe_services_or_gone_keeps_the_live_ones_described() -> None:
    # Given one live service and one purged, in one answer
    replay = Replay()
    replay.queue("DescribeServices", recorded("ecs_active_and_missing.json"))
    replay.queue("DescribeTaskDefinition", recorded("ecs_task_definition.json"))

    # When both are asked for
    found, gone = EcsGateway(replay.client("ecs")).describe_services_or_gone(
        [f"{ARN}/prod/reports", f"{ARN}/prod/web"]
    )

    # Then the live one comes with its task size, the other with MISSING
    [web] = found
    assert (web.label, web.task_size.vcpu, web.task_size.memory_gb) == ("prod/web", 1.0, 2.0)
    assert gone == {f"{ARN}/prod/reports": "MISSING"}


def test_describe_services_or_gone_lets_other_errors_through() -> None:
    # Given ECS refuses the call
    replay = Replay().queue("DescribeServices", error("AccessDeniedException"))

    # When / Then the adapter does not take it for a deletion
    with pytest.raises(ClientError) as raised:
        EcsGateway(replay.client("ecs")).describe_services_or_gone([f"{ARN}/prod/web"])
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


# -- missing sources -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "source", "words"),
    [
        pytest.param(
            {
                "GetCostAndUsage": [
                    json_answer(cost_and_usage(WEEK, DAILY)),
                    error("LimitExceededException"),
                ]
            },
            Source.COST_BY_USAGE_TYPE,
            "Cost Explorer's cost by usage type failed (LimitExceededException",
            id="Cost Explorer usage-type grouping",
        ),
        pytest.param(
            {"DescribeServices": error("AccessDeniedException"), "GetMetricData": []},
            Source.SERVICES,
            "ECS DescribeServices failed (AccessDeniedException",
            id="ECS",
        ),
        pytest.param(
            {"GetMetricData": error("Throttling")},
            Source.UTILIZATION,
            "CloudWatch GetMetricData (Container Insights) failed (Throttling",
            id="GetMetricData throttled",
        ),
        pytest.param(
            {
                "GetMetricData": Wire(
                    raises=ReadTimeoutError(
                        endpoint_url="https://monitoring.us-east-1.amazonaws.com/"
                    )
                )
            },
            Source.UTILIZATION,
            "failed (ReadTimeoutError",
            id="GetMetricData timed out",
        ),
        pytest.param(
            {"Query": error("ProvisionedThroughputExceededException")},
            Source.PARKED,
            "Reading the ledger failed (ProvisionedThroughputExceededException",
            id="ledger",
        ),
    ],
)
def test_a_source_that_cannot_be_read_becomes_a_note_and_the_costs_stay(
    overrides: dict[str, Any], source: Source, words: str
) -> None:
    # Given every source answers but one, which fails even after botocore's retries
    replay = healthy(**overrides)

    # When the report is gathered
    report = gather(sources(replay), WEEK, NOW)

    # Then the costs are all there
    assert report.total == TOTAL
    assert labelled(report)["prod/web"][0] == week_of("10.00")
    # And one note says plainly what is missing and why
    gap = gap_of(report, source)
    assert words in gap.reason
    assert gap.note in report.notes
    assert gap.note.startswith("Missing from this report: ")
    assert [g.source for g in report.gaps] == [source]
    # And the email's subject says details are missing
    assert render.subject(report).endswith("some details missing, see the notes")


def test_without_metrics_there_is_no_rightsizing_and_without_ecs_no_deletion_marks() -> None:
    # Given Container Insights is throttled, then (another week) ECS refuses
    no_metrics = gather(sources(healthy(GetMetricData=error("Throttling"))), WEEK, NOW)
    no_ecs = gather(
        sources(healthy(DescribeServices=error("AccessDeniedException"), GetMetricData=[])),
        WEEK,
        NOW,
    )

    # Then the first has no rightsizing, the second cannot tell that prod/reports was deleted
    assert no_metrics.savings == ()
    assert labelled(no_ecs)["prod/reports"] == (week_of("4.00"), "")


def test_without_the_service_grouping_the_total_and_clusters_come_from_usage_types() -> None:
    # Given Cost Explorer fails the cluster-and-service grouping but answers by usage type
    replay = healthy(
        GetCostAndUsage=[
            error("LimitExceededException"),
            json_answer(cost_and_usage(WEEK, USAGE, usage_type=True)),
        ]
    )

    # When the report is gathered
    report = gather(sources(replay), WEEK, NOW)

    # Then the total and the cluster are right, per day too, and nothing per service is made up
    assert report.total == TOTAL
    assert [(c.name, c.this_week, c.last_week) for c in report.clusters] == [("prod", TOTAL, TOTAL)]
    assert report.daily_totals == tuple(Decimal("14.00") for _ in range(7))
    assert report.services == ()
    assert replay.called("DescribeServices") == 0
    # And the note says the per-service costs are what is missing
    assert "the cost of each service" in gap_of(report, Source.COST_BY_SERVICE).note


def test_without_either_cost_explorer_grouping_there_is_no_report() -> None:
    # Given Cost Explorer fails both groupings
    replay = healthy(
        GetCostAndUsage=[error("LimitExceededException"), error("LimitExceededException")]
    )

    # When / Then there is nothing worth sending: the run fails, for a retry, with the cause
    with pytest.raises(CostsUnavailableError) as raised:
        gather(sources(replay), WEEK, NOW)
    assert isinstance(raised.value.__cause__, ClientError)
    assert replay.called("DescribeServices") == 0


def test_a_bug_is_not_mistaken_for_a_missing_source() -> None:
    # Given reading the metrics raises something that is not AWS's answer
    replay = healthy(GetMetricData=Wire(raises=ValueError("a bug")))

    # When / Then it fails loudly
    with pytest.raises(ValueError, match="a bug"):
        gather(sources(replay), WEEK, NOW)


# -- the pure rules: Container Insights off, no advice for deleted services ----------------------


def line(cluster: str, service: str, amount: str) -> list[CostLine]:
    keys = (f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${service}")
    return [CostLine(d, keys, Decimal(amount), "USD", estimated=False) for d in days(WEEK.start, 7)]


def facts(*names: tuple[str, str]) -> dict[tuple[str, str], ServiceFacts]:
    return {(c, s): ServiceFacts(c, s, 1024, 2048, spot=False, environment="dev") for c, s in names}


def test_clusters_whose_running_services_have_no_metrics_are_named_with_the_fix() -> None:
    # Given dev and batch run services that cost money, only prod's have metrics
    built = build_report(
        week=WEEK,
        by_service=[
            *line("prod", "web", "5"),
            *line("dev", "api", "2"),
            *line("batch", "etl", "1"),
        ],
        requests=2,
        now=NOW,
        utilization={("prod", "web"): Utilization(0.5, 0.7, 0.5, 0.7)},
        facts=facts(("prod", "web"), ("dev", "api"), ("batch", "etl")),
    )

    # Then one gap names batch and dev, and says how to turn Container Insights on
    gap = gap_of(built, Source.UTILIZATION)
    assert "clusters batch, dev" in gap.reason
    assert "aws ecs update-cluster-settings --cluster batch" in gap.reason
    assert "prod" not in gap.reason
    # And a setting left off is a note, not news for the subject line
    assert gap.note in built.notes
    assert not gap.failed
    assert "missing" not in render.subject(built)


def test_no_container_insights_note_when_the_metrics_call_itself_failed() -> None:
    # Given GetMetricData failed (a gap already says so)
    failed = Gap(Source.UTILIZATION, "CloudWatch GetMetricData failed (Throttling)")
    built = build_report(
        week=WEEK,
        by_service=line("dev", "api", "2"),
        requests=2,
        now=NOW,
        facts=facts(("dev", "api")),
        gaps=[failed],
    )

    # Then there is that one gap, not a second guess that Container Insights is off
    assert built.gaps == (failed,)


def test_a_deleted_service_gets_no_spot_or_rightsizing_advice() -> None:
    # Given a non-production service that would be a Spot candidate, deleted during the week
    built = build_report(
        week=WEEK,
        by_service=line("dev", "api", "20"),
        requests=1,
        now=NOW,
        utilization={("dev", "api"): Utilization(0.05, 0.1, 0.05, 0.1)},
        facts=facts(("dev", "api")),
        gone={("dev", "api"): SERVICE_DELETED},
    )

    # Then its cost is reported, with no advice and no Container Insights note
    assert built.total == week_of("20")
    assert built.savings == ()
    assert built.gaps == ()


def test_the_email_marks_deleted_clusters_and_services() -> None:
    # Given a deleted cluster and a deleted service
    built = build_report(
        week=WEEK,
        by_service=[*line("prod", "reports", "4"), *line("legacy", "batch", "3")],
        requests=1,
        now=NOW,
        gone={("prod", "reports"): SERVICE_DELETED, ("legacy", "batch"): CLUSTER_DELETED},
    )

    # When it is rendered
    text, page = render.text(built), render.html(built)

    # Then both bodies mark them, and the subject has no missing-details warning
    assert "prod/reports (deleted)" in text
    assert "legacy/batch (cluster deleted)" in text
    assert "legacy (cluster deleted)" in text
    assert page.count('class="gone"') == 3
    assert "missing" not in render.subject(built)
