"""Running the application on a laptop: a moto server stands in for AWS, and events are routed
through the rules template.yaml declares. Needs the development extras (moto, PyYAML)."""
