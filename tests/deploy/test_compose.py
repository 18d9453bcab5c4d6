"""The deployment files agree with the app: compose.yaml's settings, filled in from
deploy/example.env, start the portal in production mode (its own start-up check passes);
every app instance gets the same settings; the instances wait for the one-shot migration;
the load balancer (deploy/Caddyfile) sends to exactly the app instances, on their port.

No container engine is needed: compose's variable syntax (${VAR}, ${VAR:-default},
${VAR:?error}) is filled in here as `docker compose config` does.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from portal.config import PLACEHOLDER, ConfigError, from_env
from tests.processes import ROOT, free_port

VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _dotenv(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _fill(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if values.get(name):
            return values[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(one, text)


def _example(filled: bool) -> dict[str, str]:
    """deploy/example.env; `filled`: every placeholder replaced, as the operator must."""
    values = _dotenv(ROOT / "deploy" / "example.env")
    if filled:
        values = {key: (f"operator-chose-this-{key.lower()}-" + "x" * 32
                        if value.startswith(PLACEHOLDER) else value)
                  for key, value in values.items()}
    return values


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(_fill((ROOT / "compose.yaml").read_text(), _example(filled=True)))


def test_the_example_as_it_is_refuses_to_start() -> None:
    """The placeholders are public: production names each one still there."""
    unfilled = yaml.safe_load(_fill((ROOT / "compose.yaml").read_text(), _example(filled=False)))
    [app, *_] = _apps(unfilled).values()
    with pytest.raises(ConfigError) as refused:
        from_env({k: str(v) for k, v in app["environment"].items()})
    for name in ("PORTAL_SECRET_KEY", "PORTAL_DATABASE_URL", "PORTAL_CITIZEN_CLIENT_SECRET",
                 "PORTAL_STAFF_CLIENT_SECRET"):
        assert name in str(refused.value)


def _apps(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items()
            if s.get("image") == "sip-portal:latest" and "command" not in s}


def test_the_example_settings_start_in_production(compose) -> None:
    apps = _apps(compose)
    assert len(apps) >= 2, "the topology has at least two app instances"
    envs = [{k: str(v) for k, v in s["environment"].items()} for s in apps.values()]
    assert all(env == envs[0] for env in envs), "the instances must share every setting"
    settings = from_env(envs[0])  # raises ConfigError on anything production refuses
    assert settings.production and settings.redis_url and not settings.dev_idp
    assert settings.database_url.startswith("postgresql://")
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["python", "-m", "portal", "migrate"]
    assert {k: str(v) for k, v in migrate["environment"].items()} == envs[0]


def test_a_missing_secret_stops_compose_before_anything_starts() -> None:
    values = _example(filled=True)
    del values["PORTAL_SECRET_KEY"]
    with pytest.raises(KeyError, match="PORTAL_SECRET_KEY"):
        _fill((ROOT / "compose.yaml").read_text(), values)


def test_instances_start_after_the_migration_and_the_balancer_knows_them(compose) -> None:
    apps = _apps(compose)
    for name, service in apps.items():
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    proxy = compose["services"]["proxy"]
    assert set(proxy["depends_on"]) == set(apps)
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile).group(1).split()
    port = (ROOT / "Containerfile").read_text().split("PORTAL_PORT=")[1].split()[0]
    assert sorted(upstreams) == sorted(f"{name}:{port}" for name in apps)
    assert "health_uri /livez" in caddyfile


def test_the_health_command_fails_when_nothing_answers(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PORTAL_PORT": str(free_port()),
           "PORTAL_SESSION_DIR": str(tmp_path), "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run([sys.executable, "-m", "portal", "health"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "unhealthy" in result.stderr, result
