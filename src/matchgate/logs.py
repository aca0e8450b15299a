"""Logging for the service: one stderr handler, and a filter that redacts what must never reach a
log line even if some library puts it there (defence in depth; nothing of matchgate's own logs a
taxpayer's data, and a test scans the logs of a whole run).

Redacted: matchgate API tokens (mg_...), bearer credentials, and anything shaped like a TIN (nine
digits, with or without the dashes of an SSN or EIN). Names and addresses have no shape to find;
they are kept out at the source (SQLAlchemy hides statement parameters, see store/engine.py).
"""

from __future__ import annotations

import logging
import re
import sys

from matchgate.errors import InputError

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"mg_[A-Za-z0-9_-]{8,}"), "mg_[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;'\"]+"), r"\1 [redacted]"),
    (re.compile(r"(?<![\w.-])\d{3}-?\d{2}-?\d{4}(?![\w-])"), "[tin redacted]"),
    (re.compile(r"(?<![\w.-])\d{2}-\d{7}(?![\w-])"), "[tin redacted]"),
)
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and its traceback) with `redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(level: str = "info") -> None:
    """Every logger (matchgate's, uvicorn's, SQLAlchemy's) to stderr at `level`, redacted.
    SQLAlchemy keeps its own WARNING level except at debug, where its statements are logged too
    (never their parameters nor the rows: see matchgate.store.engine)."""
    if level.lower() not in LOG_LEVELS:
        raise InputError(f"log level {level!r}: expected one of {', '.join(LOG_LEVELS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("sqlalchemy").setLevel(
        logging.DEBUG if level.lower() == "debug" else logging.WARNING)
