"""Prometheus metrics (prometheus-client), on a registry per application so tests do not share counters."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    request_seconds: Histogram
    stage_seconds: Histogram
    queue_depth: Gauge
    running: Gauge
    jobs: Counter
    webhooks: Counter

    @classmethod
    def create(cls) -> Metrics:
        r = CollectorRegistry()
        return cls(
            registry=r,
            requests=Counter("ecgscreen_http_requests", "HTTP requests", ["method", "route", "status"], registry=r),
            request_seconds=Histogram(
                "ecgscreen_http_request_seconds", "HTTP request latency (s)", ["method", "route"], registry=r
            ),
            stage_seconds=Histogram(
                "ecgscreen_stage_seconds", "Pipeline stage duration (s)", ["stage"], buckets=STAGE_BUCKETS, registry=r
            ),
            queue_depth=Gauge("ecgscreen_queue_depth", "Jobs waiting for a worker", registry=r),
            running=Gauge("ecgscreen_jobs_running", "Jobs being processed", registry=r),
            jobs=Counter("ecgscreen_jobs", "Finished jobs by outcome", ["outcome"], registry=r),
            webhooks=Counter("ecgscreen_webhooks", "Webhook deliveries by outcome", ["outcome"], registry=r),
        )
