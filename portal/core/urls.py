"""Where a "next" link may send the visitor: only to a path on this site."""

from __future__ import annotations


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` if it is a local path ("/plan?x=1"), else `default`.

    Refuses absolute and scheme-relative URLs ("//evil", "https://…"), backslashes
    (browsers read "/\\evil" as "//evil") and control characters."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)):
        return default
    return target
