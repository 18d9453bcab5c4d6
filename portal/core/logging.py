"""Application logs: one line per event, CR/LF escaped, no personal data by design."""

from __future__ import annotations

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class SingleLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger("portal")
    if getattr(root, "_portal_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SingleLineFormatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    # One copy of each line, ours: not also the root logger's plain (multi-line) one.
    root.propagate = False
    # Libraries log request URLs and SQL parameters; keep them quiet so no
    # identifier leaks through them.
    for noisy in ("httpx", "httpcore", "authlib", "aiosqlite", "sqlalchemy", "psycopg"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._portal_configured = True  # type: ignore[attr-defined]
