"""The development provider's signing key is one key for everyone who shares its file.

Several processes (uvicorn workers, two instances) starting at once on a fresh checkout
each find no key file; if each kept the key it made, one would sign ID tokens that the
JWKS served by another cannot verify, and logins would fail now and then. Threads let
go together stand in for the processes (the race is on the file system either way).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from portal.auth.dev_idp import load_or_create_key

STARTERS = 4


def test_starting_at_once_all_sign_with_the_same_key(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "dev-idp-key.json"
    together = threading.Barrier(STARTERS)

    def start(_: int) -> str:
        together.wait(timeout=10)
        return load_or_create_key(str(key_file)).kid

    with ThreadPoolExecutor(STARTERS) as pool:
        kids = list(pool.map(start, range(STARTERS)))
    assert len(set(kids)) == 1 and kids[0] == load_or_create_key(str(key_file)).kid, kids
    assert key_file.stat().st_mode & 0o077 == 0, "the private key is readable by others"
    assert [f.name for f in key_file.parent.iterdir()] == [key_file.name], "temporary files left"
