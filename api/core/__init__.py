"""Service plumbing: settings, API keys, logging and metrics."""
