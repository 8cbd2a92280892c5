"""Entry points: the `ecgscreen` command line and (later) the HTTP service."""
