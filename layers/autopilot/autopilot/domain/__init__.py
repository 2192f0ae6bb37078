"""Pure decisions: typed values in, a decision out. No boto3, no environment."""
