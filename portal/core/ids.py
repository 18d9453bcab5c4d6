"""Opaque, random identifiers for everything that can appear in a URL."""

import secrets
from datetime import UTC, datetime


def new_id() -> str:
    return secrets.token_urlsafe(16)


def utcnow() -> datetime:
    return datetime.now(UTC)
