"""In-memory fakes of every gateway in `autopilot.ports`, faithful to the AWS behaviour the
workflows rely on (see each module). `World` wires them into an ExecutorContext."""
