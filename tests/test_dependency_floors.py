"""Versions with known security fixes (SECURITY.md): never run anything older.

`make audit` asks a vulnerability database through pip-audit as well; this
test keeps the floors even where that database cannot be reached.
"""

from importlib.metadata import version

from packaging.version import Version

FLOORS = {
    "litestar": "2.24",  # CSRF input rendering, rate-limit races, body size, AllowedHosts, XFF
    "authlib": "1.6.12",  # login CSRF through OAuth state not bound to the session
    "jinja2": "3.1.6",  # sandbox escapes
    "h11": "0.16.0",  # request smuggling
}


def test_security_floors_are_met():
    too_old = {}
    for name, floor in FLOORS.items():
        try:
            installed = version(name)
        except Exception:  # noqa: BLE001, S112 - not installed is fine
            continue
        if Version(installed) < Version(floor):
            too_old[name] = (installed, floor)
    assert not too_old, f"upgrade these: {too_old}"
