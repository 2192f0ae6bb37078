"""The only code that calls boto3. Clients are injected; errors become domain errors."""
