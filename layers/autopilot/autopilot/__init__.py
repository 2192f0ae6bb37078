"""ECS Autopilot: event-driven automation for Amazon ECS services."""

__version__ = "0.1.0"
