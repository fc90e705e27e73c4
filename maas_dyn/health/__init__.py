"""What a client that knows every release can tell: release diffs (and health checks)."""
