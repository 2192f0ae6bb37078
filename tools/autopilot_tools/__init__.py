"""Development and operator tools for ECS Autopilot, never deployed to Lambda.

- `autopilot_tools.cli`: the `autopilot` command line (status, history, rollback, pause,
  resume, release, redrive, and the `local` subcommands).
- `autopilot_tools.local`: the local runner, the demo, the demo fleet and its sample events,
  and moto's extensions: what stands in for AWS on a laptop.

They import the layer's package, `autopilot`; the layer never imports them.
"""
