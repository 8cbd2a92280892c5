"""One router per resource: reports (jobs), single stages, health/metrics, the upload page."""
