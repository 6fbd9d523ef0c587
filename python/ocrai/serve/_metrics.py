"""The server's Prometheus metrics, in a registry of its own (one per app)."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> float:
    """This process's resident memory (the engine's models, buffers and thread pools are
    most of it); 0 where /proc is not available."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 0.0
    return float(int(fields[1]) * _PAGE_SIZE)


class Metrics:
    """Every metric the server exports; ``exposition()`` is the body of ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.requests = Counter(
            "ocrai_serve_requests", "HTTP requests answered", ["route", "status"], registry=r
        )
        self.latency = Histogram(
            "ocrai_serve_request_duration_seconds",
            "Time from a request's arrival to its response, by route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "ocrai_serve_reads_in_flight", "Reads admitted and not answered yet", registry=r
        )
        self.queue_depth = Gauge(
            "ocrai_serve_queue_depth",
            "Reads admitted beyond those that can run at once (waiting for a worker)",
            registry=r,
        )
        self.pages = Counter("ocrai_serve_pages", "Pages recognised", registry=r)
        self.errors = Counter(
            "ocrai_serve_errors", "Requests answered with an error, by kind", ["kind"], registry=r
        )
        self.engine_memory = Gauge(
            "ocrai_engine_resident_memory_bytes",
            "Resident memory of the server process, which holds the one engine",
            registry=r,
        )
        self.engine_memory.set_function(resident_bytes)
        self.engine_loaded = Gauge(
            "ocrai_engine_loaded", "1 when the engine's models are loaded", registry=r
        )
        self.engine_threads = Gauge(
            "ocrai_engine_threads", "The engine's thread budget", registry=r
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
