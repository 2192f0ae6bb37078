"""CloudWatch in memory: alarms (state, tags, dimensions, actions) and Container Insights.

Which alarms are tied to a service is domain/alarms.py's rule, applied to what the adapter
reads: Auto Scaling's alarms never; an alarm whose autopilot:service tag is invalid only
through the service's own deployment alarms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from autopilot.adapters.cloudwatch import AlarmFacts
from autopilot.domain.alarms import (
    InvalidAlarmTagError,
    alarm_services,
    is_scaling_alarm,
    service_location,
)
from autopilot.domain.fleet import Service
from autopilot.domain.report import Utilization
from tests.fakes.aws import ACCOUNT, REGION


@dataclass
class Alarm:
    name: str
    arn: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    tags: dict[str, str]
    dimensions: list[dict[str, str]]  # the metric's, and each metric query's
    actions: list[str] = field(default_factory=list)
    composite: bool = False


class FakeCloudWatch:
    def __init__(self, account: str = ACCOUNT, region: str = REGION) -> None:
        self._account = account
        self._region = region
        self.alarms: dict[str, Alarm] = {}
        self._utilization: dict[tuple[str, str], Utilization] = {}

    # -- set-up, for tests --------------------------------------------------------------------

    def put_alarm(
        self,
        name: str,
        *,
        state: str = "OK",
        tags: Mapping[str, str] | None = None,
        dimensions: Sequence[Mapping[str, str]] = (),
        actions: Sequence[str] = (),
        composite: bool = False,
    ) -> str:
        """A metric alarm (dimensions: one mapping per metric) or a composite one."""
        arn = f"arn:aws:cloudwatch:{self._region}:{self._account}:alarm:{name}"
        self.alarms[name] = Alarm(
            name,
            arn,
            state,
            dict(tags or {}),
            [dict(d) for d in dimensions],
            list(actions),
            composite,
        )
        return arn

    def set_state(self, name: str, state: str) -> None:
        self.alarms[name].state = state

    def set_utilization(self, cluster: str, service: str, utilization: Utilization) -> None:
        self._utilization[(cluster, service)] = utilization

    # -- the gateway --------------------------------------------------------------------------

    def alarm_tags(self, alarm_arn: str) -> dict[str, str]:
        alarm = next((a for a in self.alarms.values() if a.arn == alarm_arn), None)
        return dict(alarm.tags) if alarm else {}  # ResourceNotFound reads as no tags

    def describe_alarm(self, name: str) -> AlarmFacts | None:
        alarm = self.alarms.get(name)
        return self._facts(alarm) if alarm else None

    def firing_for(self, service: Service) -> tuple[str, ...]:
        account, region = service_location(service.arn)
        firing = []
        for alarm in self.alarms.values():
            facts = self._facts(alarm)
            if alarm.state != "ALARM" or is_scaling_alarm(facts.name, facts.actions):
                continue
            try:
                tied = service.arn in alarm_services(
                    name=facts.name,
                    tags=alarm.tags,
                    dimensions=facts.dimensions,
                    actions=facts.actions,
                    deployment_alarms={service.arn: service.deployment_alarms},
                    account=account,
                    region=region,
                )
            except InvalidAlarmTagError:
                tied = alarm.name in service.deployment_alarms
            if tied:
                firing.append(alarm.name)
        return tuple(sorted(firing))

    @staticmethod
    def _facts(alarm: Alarm) -> AlarmFacts:
        """As DescribeAlarms shows it: a composite alarm has no dimensions; empty ones drop."""
        dimensions = () if alarm.composite else tuple(dict(d) for d in alarm.dimensions if d)
        return AlarmFacts(alarm.name, alarm.arn, dimensions, tuple(alarm.actions))

    def utilization(
        self, services: list[tuple[str, str]], start: datetime, end: datetime
    ) -> dict[tuple[str, str], Utilization]:
        return {key: self._utilization[key] for key in services if key in self._utilization}
