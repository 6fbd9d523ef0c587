"""Running the app under uvicorn: logging, signals, exit status.

SIGTERM (or Ctrl-C) shuts down gracefully: uvicorn stops accepting connections, lets the
requests in flight finish (at most the read time limit plus a margin), then the app's
lifespan ends, which waits for the read pool and frees the engine's resources; the process
exits with status 0.
"""

from __future__ import annotations

import logging
import math
import signal
import sys
from collections.abc import Callable

import uvicorn

from ocrai.engine import OcrAI

from ._app import Limits, create_app

__all__ = ["serve"]


class _JsonLines(logging.Formatter):
    """Access records are JSON already; other records become one line each too."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "ocrai.serve.access":
            return record.getMessage()
        return f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"


def _configure_logging(access_log: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    for name in ("ocrai.serve", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logging.getLogger("ocrai.serve.access").disabled = not access_log


def serve(
    make_engine: Callable[[], OcrAI],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    limits: Limits | None = None,
    access_log: bool = True,
) -> int:
    """Serves until SIGTERM or SIGINT; returns the exit status (0 after a graceful stop,
    1 when the server could not start, e.g. the port is taken)."""
    limits = limits or Limits()
    _configure_logging(access_log)
    app = create_app(make_engine, limits)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,  # ours: one JSON line per request (ocrai.serve.access)
        timeout_graceful_shutdown=math.ceil(limits.timeout_s) + 5,
        lifespan="on",
        # h11, whose header limit is ours to set: headers up to four times the app's limit
        # reach the app, which answers 431 with a JSON reason; beyond that h11 refuses them.
        http="h11",
        h11_max_incomplete_event_size=4 * limits.max_header_bytes,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it is done, so that the default
    # action (death by SIGTERM) follows; the shutdown was graceful, so the process should
    # exit 0 instead: SIGTERM is ignored for that moment.
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1
