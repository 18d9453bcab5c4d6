"""Requests per second over real HTTP, one uvicorn worker, PostgreSQL + Redis: `make bench-load`.

    .venv/bin/python -m bench.load --sizes 1000,100000          # the README's table
    .venv/bin/python -m bench.load --tree /work/wt-before --tree /work/main --sizes 1000
    .venv/bin/python -m bench.load --sizes 1000 --portal-env PORTAL_PAGE_CACHE_SECONDS=0

Step 3's check visits each page once per person first, so the timed requests meet kept
pages (portal.core.page_cache), as a person moving between pages does; with
PORTAL_PAGE_CACHE_SECONDS=0 every request costs what a first view does.

bench/generate.py runs from this checkout and writes this checkout's schema: a tree
without migration 0006 (plan.follow_up_at) can only be compared with `--sizes 0`.

For each size (generated persons) and each checkout (a git worktree of the portal with its
own .venv) this

1. creates a fresh PostgreSQL database on 127.0.0.1 and flushes a Redis db (14 by
   default), runs `python -m portal migrate` and `python -m portal demo` from that tree,
   makes sure Viola has a published plan (bench/seed.py, else the staff editor over HTTP),
   and adds N generated persons with bench/generate.py (COPY; 100 000 take minutes);
2. starts `python -m portal serve` from that tree with PORTAL_WORKERS=1 on a free port,
   and signs in `--citizens` people (Viola and generated persons with a plan) and
   `--staff` staff members (Anna and the staff of the busiest units) through the
   development identity provider over HTTP (OIDC login_hint names each one);
3. checks every page for every signed-in person once (200, signed in, no redirect),
   measures page weight (bytes as sent with Accept-Encoding gzip, br: HTML + linked CSS
   and JS on a first visit, what is fetched again on a repeat visit given Cache-Control
   and ETag, and each htmx GET swap), then runs wrk against each page (a short warm-up,
   then `-t2 -c8 -d{seconds}s --latency`) with a Lua script that gives each request the
   next person's cookie, so consecutive requests are different people's pages;
4. stops the portal and runs the same wrk against bench/reference.py, one worker: /a
   returns the saved /plan HTML, /b does one Redis GET and one indexed SELECT first. The
   ratios are the page's requests per second over /a's and /b's, measured in the same
   run. The server's CPU time per request (user + system, from /proc) is recorded too:
   on a busy machine it moves much less than requests per second;
5. stops every server, drops the database and flushes the Redis db, also on error.

The tables (with the issue's targets marked met / not met, never asserted) go to stdout
and bench/results/load-<timestamp>.md; everything (raw wrk output, the machine, the
generated row counts) to bench/results/load-<timestamp>.json. Only 127.0.0.1 is loaded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bs4 import BeautifulSoup
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PLAN_UNIT_NAME = "Kalmar vårdcentral"
FOLLOW_UP = {"date": "2026-12-08", "time": "10:00", "place": "Hemma"}
# In every published plan as templates/plans/_body.html shows it (any person, either
# language variant): its first section.
PLAN_MARK = 'aria-labelledby="important-title"'
CITIZEN_PAGES = ["/", "/plan", "/samtycke", "/samtycke/historik", "/arenden", "/meddelanden"]
STAFF_PAGES = ["/personal/inkorg"]
# htmx swaps the pages make with GET (templates: hx-get): (who, path).
SWAPS = [("citizen", "/logg"), ("staff", "/personal/inkorg")]
TARGETS = {"ratio_to_b": 0.5, "p95_ms": 25.0, "growth": 1.2, "first_load_kb": 30.0, "swap_kb": 5.0}
STARTUP_TIMEOUT = 60
COMMAND_TIMEOUT = 600


class BenchError(RuntimeError):
    pass


@dataclass
class Run:
    """One wrk run against one URL."""

    target: str
    page: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: str
    loadavg_before: tuple[float, float, float]
    raw: str = field(repr=False)
    server_cpu_ms_per_request: float | None = None
    ratio_to_a: float | None = None
    ratio_to_b: float | None = None


# --- small helpers ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench.load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_local(url: str, what: str) -> None:
    host = make_url(url).host if "://" in url else None
    if host not in LOCAL_HOSTS:
        raise BenchError(f"{what} must point at 127.0.0.1, not {host!r}")


def git_info(tree: Path) -> dict:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(tree), *args], check=False,
                                capture_output=True, text=True, timeout=30)
        return result.stdout.strip()

    # app_commit, what the label shows: the newest commit that changed the app itself.
    app = (".", ":(exclude)bench", ":(exclude)Makefile", ":(exclude).gitignore")
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "app_commit": git("log", "-1", "--format=%H", "--", *app),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", *app))}


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- PostgreSQL and Redis --------------------------------------------------------------------


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(admin_url: str):
    """A new, empty database (dropped on exit); yields its URL."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(admin_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield make_url(_conninfo(admin_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(admin_url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


@contextlib.contextmanager
def flushed_redis(url: str):
    """The Redis db empty before and after (sessions, rate limits, the reference's key)."""
    from redis import Redis

    with Redis.from_url(url) as redis:
        redis.flushdb()
        try:
            yield
        finally:
            redis.flushdb()


def person_id(database_url: str, given_name: str) -> str:
    import psycopg

    with psycopg.connect(_conninfo(database_url), connect_timeout=5) as conn:
        row = conn.execute("SELECT id FROM person WHERE given_name = %s ORDER BY id LIMIT 1",
                           (given_name,)).fetchone()
    if row is None:
        raise BenchError(f"no demo person {given_name}")
    return row[0]


# --- servers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def server(argv: list[str], *, cwd: Path, env: dict[str, str], logfile: Path, health_url: str):
    """Start a server in its own process group; wait for `health_url`; stop it on exit."""
    with logfile.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise BenchError(f"server exited with {proc.returncode}:\n{tail(logfile)}")
            try:
                if httpx.get(health_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"server not healthy after {STARTUP_TIMEOUT}s:\n{tail(logfile)}")
            time.sleep(0.3)
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group this script started, SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    else:  # the leader is gone; make sure no worker of its group is left behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def portal_env(tree: Path, database_url: str, redis_url: str, port: int, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env.update({
        "PORTAL_ENV": "development",
        "PORTAL_DEV_IDP": "1",
        "PORTAL_DEV_IDP_KEY_FILE": str(tmp / "dev-idp-key.json"),
        "PORTAL_SESSION_DIR": str(tmp / "sessions"),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_REDIS_URL": redis_url,
        "PORTAL_HOST": "127.0.0.1",
        "PORTAL_PORT": str(port),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_WORKERS": "1",
        "PYTHONPATH": str(tree),
        "PYTHONDONTWRITEBYTECODE": "1",  # leave the other checkouts as they are
    })
    return env


def run_command(argv: list[str], *, cwd: Path, env: dict) -> str:
    result = subprocess.run(argv, check=False, cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=COMMAND_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                         f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


# --- logging in and seeding over HTTP --------------------------------------------------------


def form_values(form) -> dict[str, list[str]]:
    """What a browser would send for `form` without touching it (no buttons)."""
    data: dict[str, list[str]] = {}
    for node in form.select("input, textarea, select"):
        name = node.get("name")
        if not name:
            continue
        if node.name == "textarea":
            value = node.get_text()
        elif node.name == "select":
            chosen = node.select_one("option[selected]") or node.select_one("option")
            value = chosen.get("value", "") if chosen else ""
        elif node.get("type") in {"checkbox", "radio"}:
            if not node.has_attr("checked"):
                continue
            value = node.get("value", "on")
        elif node.get("type") in {"submit", "button", "image", "file"}:
            continue
        else:
            value = node.get("value", "")
        data.setdefault(name, []).append(value)
    return data


def find_form(html: str, action_suffix: str):
    form = BeautifulSoup(html, "html.parser").select_one(f'form[action$="{action_suffix}"]')
    if form is None:
        raise BenchError(f"no form with action ending {action_suffix}")
    return form


def choose_at_provider(client: httpx.Client, action: str, data: dict, who: str) -> None:
    """Post the development provider's choice of `who` and follow its callback into the
    portal; BenchError when either step fails (`who` names them in the message)."""
    choice = client.post(action, data=data)
    if choice.status_code not in (302, 303):
        raise BenchError(f"the provider answered {choice.status_code} to the choice of {who}")
    callback = client.get(choice.headers["location"])
    if callback.status_code not in (302, 303) or "/auth/login" in callback.headers.get("location", ""):
        raise BenchError(f"the login callback for {who} failed ({callback.status_code})")


def login(client: httpx.Client, kind: str, who: str) -> None:
    """portal -> development provider -> the person's button -> callback, like tests/conftest.py."""
    start = client.get(f"/auth/login/{kind}")
    if start.status_code not in (302, 303):
        raise BenchError(f"/auth/login/{kind} answered {start.status_code}")
    page = client.get(start.headers["location"])
    if page.status_code != 200:
        raise BenchError(f"the provider's page answered {page.status_code}")
    form = find_form(page.text, "/dev-idp/authorize")
    data = {name: values[0] for name, values in form_values(form).items()
            if form.select_one(f'input[type=hidden][name="{name}"]')}
    buttons = [b for b in form.select("button[name=who]")
               if b.strong and b.strong.get_text().strip().lower().startswith(who.lower())]
    if not buttons:
        raise BenchError(f"{who} is not offered by the development provider")
    data["who"] = buttons[0]["value"]
    choose_at_provider(client, form.get("action"), data, who)


def submit(client: httpx.Client, html: str, action_suffix: str, **overrides) -> httpx.Response:
    form = find_form(html, action_suffix)
    data = form_values(form)
    data.update({k: v if isinstance(v, list) else [v] for k, v in overrides.items()})
    response = client.post(form.get("action"), data=data)
    if response.status_code not in (302, 303):
        raise BenchError(f"POST {form.get('action')} answered {response.status_code}")
    return response


def plan_over_http(base_url: str, viola: str) -> None:
    """The fallback: Anna records Viola's consent and writes and publishes her plan."""
    with httpx.Client(base_url=base_url, timeout=30) as anna:
        login(anna, "staff", "Anna")
        editor = f"/personal/personer/{viola}/plan"
        page = anna.get(editor)
        if page.status_code == 403:  # no consent for Anna's unit yet: she records it
            consent = anna.get(f"/personal/personer/{viola}/samtycke")
            soup = BeautifulSoup(consent.text, "html.parser")
            label = next(lab for lab in soup.select("label")
                         if lab.get_text().strip() == PLAN_UNIT_NAME and lab.get("for"))
            unit_id = soup.select_one(f'#{label["for"]}')["value"]
            submit(anna, consent.text, f"/personer/{viola}/samtycke", decision="give",
                   unit=unit_id, given_by=viola, method="oral", note="Benchmark.")
            page = anna.get(editor)
        if page.status_code != 200:
            raise BenchError(f"GET {editor} answered {page.status_code}")
        if f'action="{editor}"' in page.text.replace(base_url, ""):  # no plan yet: create it
            submit(anna, page.text, editor)
            page = anna.get(editor)
        submit(anna, page.text, "/plan/avsnitt/follow_up", **FOLLOW_UP)
        submit(anna, anna.get(editor).text, "/plan/publicera")


def check_page(client: httpx.Client, page: str) -> str:
    response = client.get(page)
    if response.status_code != 200:
        raise BenchError(f"GET {page} answered {response.status_code} "
                         f"{response.headers.get('location', '')}")
    if "/auth/logout" not in response.text:
        raise BenchError(f"GET {page} does not look signed in")
    if page == "/plan" and PLAN_MARK not in response.text:
        raise BenchError("GET /plan shows no published plan")
    return response.text


# --- wrk -------------------------------------------------------------------------------------


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * UNITS_MS[unit]


ROTATE_LUA = """
-- Each request carries the next signed-in person's cookie (bench/load.py writes them),
-- so that consecutive requests are different people's pages; done() prints p95.
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do cookies[#cookies + 1] = line end
local n = math.random(#cookies)
request = function()
  n = n % #cookies + 1
  if #cookies > 0 and cookies[n] ~= "" then wrk.headers["Cookie"] = cookies[n] end
  return wrk.format(nil)
end
done = function(summary, latency, requests)
  io.write(string.format("p95_us: %d\\n", latency:percentile(95)))
end
"""


def wrk(url: str, *, seconds: int, threads: int, connections: int,
        cookies: list[str] | None = None, workdir: Path | None = None) -> str:
    """One wrk run; with `cookies` each request carries the next one (a Lua script)."""
    require_local(url, "the load target")
    workdir = workdir or Path(tempfile.gettempdir())
    script, jar = workdir / "rotate.lua", workdir / f"cookies-{uuid.uuid4().hex[:6]}.txt"
    script.write_text(ROTATE_LUA)
    jar.write_text("\n".join(cookies or [""]) + "\n")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "10s", "-s", str(script)]
    env = dict(os.environ, BENCH_COOKIES=str(jar))
    result = subprocess.run([*argv, url], check=False, capture_output=True, text=True,
                            timeout=seconds + 60, env=env)
    if result.returncode != 0:
        raise BenchError(f"wrk failed: {result.stderr}")
    return result.stdout


def parse_wrk(target: str, page: str, raw: str, loadavg) -> Run:
    def find(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, raw, re.MULTILINE)
        if match is None:
            if default is None:
                raise BenchError(f"unexpected wrk output:\n{raw}")
            return default
        return match.group(1)

    return Run(
        target=target, page=page,
        rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")),
        p95_ms=int(find(r"^p95_us: (\d+)")) / 1000,
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        non_2xx_3xx=int(find(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=find(r"Socket errors: (.*)$", ""),
        loadavg_before=loadavg, raw=raw,
    )


def cpu_seconds(group: int) -> float:
    """User + system CPU time so far of every process in a process group (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:  # fields[0] is field 3 of proc(5): state; [2] is pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(target: str, page: str, url: str, args, server_pid: int,
            cookies: list[str] | None = None) -> Run:
    """Warm up, then one wrk run; also the server's CPU time per request, which a busy
    machine disturbs much less than requests per second."""
    if args.warmup:
        wrk(url, seconds=args.warmup, threads=args.threads, connections=args.connections,
            cookies=cookies)
    loadavg = os.getloadavg()
    cpu_before = cpu_seconds(server_pid)
    raw = wrk(url, seconds=args.seconds, threads=args.threads, connections=args.connections,
              cookies=cookies)
    cpu = cpu_seconds(server_pid) - cpu_before
    run = parse_wrk(target, page, raw, loadavg)
    if run.requests:
        run.server_cpu_ms_per_request = cpu * 1000 / run.requests
    log(f"{target} {page}: {run.rps:.1f} req/s, p50 {run.p50_ms:.1f} ms, p95 {run.p95_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, "
        f"server CPU {run.server_cpu_ms_per_request or 0:.2f} ms/request")
    if run.non_2xx_3xx or run.socket_errors:
        log(f"  warning: {run.non_2xx_3xx} non-2xx/3xx, socket errors: {run.socket_errors or 0}")
    return run


# --- one tree --------------------------------------------------------------------------------


def login_as(client: httpx.Client, kind: str, who_id: str) -> None:
    """Log in as the person or staff member with id `who_id` through the development
    provider, naming them with OIDC's login_hint (the provider then offers only them)."""
    start = client.get(f"/auth/login/{kind}")
    if start.status_code not in (302, 303):
        raise BenchError(f"/auth/login/{kind} answered {start.status_code}")
    page = client.get(f"{start.headers['location']}&login_hint={who_id}")
    form = find_form(page.text, "/dev-idp/authorize")
    data = {name: values[0] for name, values in form_values(form).items()
            if form.select_one(f'input[type=hidden][name="{name}"]')}
    data["who"] = who_id
    choose_at_provider(client, form.get("action"), data, f"{kind} {who_id}")


def reset_login_rate_limit(redis_url: str) -> None:
    """The portal allows 20 login callbacks a minute per address (portal.auth.accounts.
    RateLimiter); every sign-in here comes from 127.0.0.1. Forget the count in the
    benchmark's own Redis db rather than wait a minute."""
    from redis import Redis

    with Redis.from_url(redis_url) as redis:
        for key in redis.scan_iter(match="*ratelimit:callback*"):
            redis.delete(key)


def sign_ins(database_url: str, citizens: int, staff: int) -> tuple[list[str], list[str]]:
    """Ids of people to sign in as: Viola and generated persons with a published plan who
    act for nobody (so no "who do you act for" page), and staff of units with the most
    care relations (Anna first). Picked at random, the same for a given database."""
    import psycopg

    with psycopg.connect(_conninfo(database_url), connect_timeout=5) as conn:
        conn.execute("SELECT setseed(0.12)")
        people = [row[0] for row in conn.execute(
            "SELECT p.id FROM person p JOIN plan ON plan.person_id = p.id AND plan.status = 'active' "
            "WHERE p.given_name = 'Viola' OR (NOT EXISTS (SELECT 1 FROM representation r "
            "WHERE r.representative_id = p.id) AND NOT p.protected_identity "
            "AND p.birth_date < now() - interval '18 years') "
            "ORDER BY p.given_name = 'Viola' DESC, random() LIMIT %s", (citizens,))]
        members = [row[0] for row in conn.execute(
            "SELECT s.id FROM staff_member s JOIN care_relation c ON c.unit_id = s.unit_id "
            "GROUP BY s.id, s.given_name ORDER BY s.given_name = 'Anna' DESC, count(*) DESC "
            "LIMIT %s", (staff,))]
    return people, members


def cookie_of(client: httpx.Client) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)


ASSET_SELECTORS = (("link[rel~=stylesheet][href]", "href"), ("script[src]", "src"))


def _get_bytes(client: httpx.Client, url: str, headers: dict | None = None) -> tuple[int, httpx.Response]:
    """What came over the wire for the body (compressed as sent) and the response."""
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip, br", **(headers or {})}) as response:
        for _ in response.iter_raw():
            pass
        return response.num_bytes_downloaded, response


def _cached_for_a_while(response: httpx.Response) -> bool:
    control = response.headers.get("cache-control", "")
    match = re.search(r"max-age=(\d+)", control)
    return "no-store" not in control and "no-cache" not in control and bool(match) and int(match.group(1)) > 0


def page_weight(client: httpx.Client, page: str) -> dict:
    """Bytes a phone downloads for `page` (HTML + linked CSS and JS, bodies as sent, with
    Accept-Encoding gzip and br) on a first visit, and on a repeat visit given the
    Cache-Control and ETag/Last-Modified the server sent (fresh: nothing; otherwise a
    conditional GET whose answer is counted)."""
    html_bytes, response = _get_bytes(client, page)
    text = client.get(page).text
    soup = BeautifulSoup(text, "html.parser")
    assets = []
    for selector, attribute in ASSET_SELECTORS:
        for node in soup.select(selector):
            url = node[attribute]
            if url.startswith(("http://", "https://", "//")) and "127.0.0.1" not in url:
                continue
            first, asset = _get_bytes(client, url)
            conditional = {}
            if asset.headers.get("etag"):
                conditional["If-None-Match"] = asset.headers["etag"]
            if asset.headers.get("last-modified"):
                conditional["If-Modified-Since"] = asset.headers["last-modified"]
            if _cached_for_a_while(asset):
                repeat = 0
            elif conditional:
                repeat, _ = _get_bytes(client, url, conditional)
            else:
                repeat = first
            assets.append({"url": url, "bytes": first, "repeat_bytes": repeat,
                           "encoding": asset.headers.get("content-encoding", "identity"),
                           "cache_control": asset.headers.get("cache-control", "")})
    conditional = {"If-None-Match": response.headers["etag"]} if response.headers.get("etag") else {}
    repeat_html, _ = _get_bytes(client, page, conditional) if conditional else (html_bytes, None)
    return {"page": page, "html_bytes": html_bytes,
            "html_encoding": response.headers.get("content-encoding", "identity"),
            "assets": assets, "first_visit_bytes": html_bytes + sum(a["bytes"] for a in assets),
            "repeat_visit_bytes": repeat_html + sum(a["repeat_bytes"] for a in assets)}


def swap_weight(client: httpx.Client, path: str) -> dict:
    """Bytes of one htmx swap (HX-Request: true), body as sent."""
    size, response = _get_bytes(client, path, {"HX-Request": "true"})
    if response.status_code != 200:
        raise BenchError(f"htmx GET {path} answered {response.status_code}")
    return {"path": path, "bytes": size, "encoding": response.headers.get("content-encoding", "identity")}


def generate_data(tree: Path, database_url: str, persons: int, env: dict) -> dict:
    """bench/generate.py from this checkout, against the tree's migrated database."""
    python = tree / ".venv" / "bin" / "python"
    argv = [str(python), "-m", "bench.generate", database_url, "--persons", str(persons)]
    # Its progress goes to our stderr; minutes for 100 000 persons, more on a busy machine.
    result = subprocess.run(argv, check=False, cwd=ROOT, env=dict(env, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, text=True, timeout=COMMAND_TIMEOUT + persons // 20)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_tree(tree: Path, args, tmp: Path, persons: int) -> dict:
    python = tree / ".venv" / "bin" / "python"
    if not python.exists():
        raise BenchError(f"{python} is missing: run `make install` in {tree}")
    info = {"tree": str(tree), **git_info(tree), "persons": persons}
    label = f"{tree.name}@{info['app_commit'][:7]}{'+dirty' if info['dirty'] else ''}"
    if args.portal_env:
        label += " " + " ".join(args.portal_env)
    info["label"] = label
    log(f"--- {label}, {persons} generated persons")
    with fresh_database(args.admin_url) as database_url, flushed_redis(args.redis_url):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = portal_env(tree, database_url, args.redis_url, port, tmp)
        env.update(dict(item.split("=", 1) for item in args.portal_env))
        run_command([str(python), "-m", "portal", "migrate"], cwd=tree, env=env)
        run_command([str(python), "-m", "portal", "demo"], cwd=tree, env=env)
        seed = {"plan": "http (forced)"}
        if args.seed != "http":
            out = run_command([str(python), str(ROOT / "bench" / "seed.py"), database_url],
                              cwd=tree, env=env)
            seed = json.loads(out.strip().splitlines()[-1])
        viola = seed.get("viola") or person_id(database_url, "Viola")
        if persons:
            info["generated"] = generate_data(tree, database_url, persons, env)
            log(f"generated {persons} persons in {info['generated']['seconds']} s")
        argv = [str(python), "-m", "portal", "serve"]
        with server(argv, cwd=tree, env=env, logfile=tmp / f"portal-{port}.log",
                    health_url=f"{base_url}/healthz") as proc:
            if seed["plan"] != "services":
                log(f"seeding through the services: {seed['plan']}; using the staff editor")
                plan_over_http(base_url, viola)
                seed["plan"] = "http"
            citizens, members = sign_ins(database_url, args.citizens, args.staff)
            clients = {"citizen": [], "staff": []}
            for kind, ids in (("citizen", citizens), ("staff", members)):
                for who in ids:
                    if sum(map(len, clients.values())) % 15 == 14:
                        reset_login_rate_limit(args.redis_url)
                    client = httpx.Client(base_url=base_url, timeout=30)
                    login_as(client, kind, who)
                    clients[kind].append(client)
            log(f"signed in {len(clients['citizen'])} people and {len(clients['staff'])} staff members")
            try:
                cookies = {kind: [cookie_of(c) for c in cs] for kind, cs in clients.items()}
                kind_of = {page: ("staff" if page in STAFF_PAGES or page.startswith("/personal")
                                  else "citizen") for page in args.pages}
                for page in args.pages:  # every signed-in person's page answers 200
                    for client in clients[kind_of[page]]:
                        check_page(client, page)
                first = {kind: cs[0] for kind, cs in clients.items() if cs}
                plan_html = check_page(first["citizen"], "/plan")
                info["weight"] = [page_weight(first[kind_of[page]], page) for page in args.pages]
                info["swaps"] = [swap_weight(first[kind], path) for kind, path in SWAPS if kind in first]
                runs = []
                for page in args.pages:
                    runs.append(measure(label, page, base_url + page, args, proc.pid,
                                        cookies[kind_of[page]]))
                    for client in clients[kind_of[page]][:3]:
                        check_page(client, page)  # still signed in: wrk counts redirects as success
            finally:
                for cs in clients.values():
                    for client in cs:
                        client.close()
        info["seed"] = seed
        info["signed_in"] = {kind: len(ids) for kind, ids in (("citizen", citizens), ("staff", members))}
        if args.reference:
            ref = bench_reference(plan_html, database_url, viola, args, tmp)
            a = next(r for r in ref if r.page == "/a")
            b = next(r for r in ref if r.page == "/b")
            for run in runs + ref:
                run.ratio_to_a = run.rps / a.rps if a.rps else None
                run.ratio_to_b = run.rps / b.rps if b.rps else None
            runs += ref
    info["runs"] = [asdict(r) for r in runs]
    return info


def bench_reference(plan_html: str, database_url: str, viola: str, args, tmp: Path) -> list[Run]:
    from redis import Redis

    html_file = tmp / "plan.html"
    html_file.write_text(plan_html)
    with Redis.from_url(args.redis_url) as redis:
        redis.set("bench:reference:session", json.dumps({"person": viola, "pad": "x" * 400}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "REF_"))}
    env.update({"REF_HTML_FILE": str(html_file), "REF_DATABASE_URL": database_url,
                "REF_REDIS_URL": args.redis_url, "REF_PERSON_ID": viola,
                "PYTHONPATH": str(ROOT)})
    argv = [sys.executable, "-m", "uvicorn", "bench.reference:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--no-access-log", "--no-server-header"]
    base = f"http://127.0.0.1:{port}"
    runs = []
    with server(argv, cwd=ROOT, env=env, logfile=tmp / f"reference-{port}.log",
                health_url=f"{base}/b") as proc:
        for page in ("/a", "/b"):
            runs.append(measure("reference", page, base + page, args, proc.pid))
    return runs


# --- output ----------------------------------------------------------------------------------


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "not met")


def table(trees: list[dict]) -> str:
    """The markdown tables: throughput and latency per page (with the targets), growth from
    the smallest to the largest size, and page weight."""
    lines = [("| tree | persons | page | req/s | p50 ms | p95 ms | p99 ms | × ref a | × ref b "
             "| server CPU ms/req | ≥ 0.5 × b | p95 < 25 ms |"),
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for info in trees:
        for run in info["runs"]:
            target = info["label"] if run["target"] != "reference" else "reference"
            ra = f"{run['ratio_to_a']:.2f}" if run.get("ratio_to_a") is not None else "–"
            rb = f"{run['ratio_to_b']:.2f}" if run["ratio_to_b"] is not None else "–"
            cpu = run["server_cpu_ms_per_request"]
            cpu = f"{cpu:.2f}" if cpu is not None else "–"
            page_run = run["target"] != "reference"
            lines.append(
                f"| {target} | {info.get('persons', 0)} | {run['page']} | {run['rps']:.1f} "
                f"| {run['p50_ms']:.1f} | {run['p95_ms']:.1f} | {run['p99_ms']:.1f} | {ra} | {rb} | {cpu} "
                f"| {_met(run['ratio_to_b'] >= TARGETS['ratio_to_b']) if page_run and run['ratio_to_b'] else '–'} "
                f"| {_met(run['p95_ms'] < TARGETS['p95_ms'])} |")
    growth = growth_rows(trees)
    if growth:
        sizes = "{} → {} persons".format(*growth[0]["persons"])
        lines += ["", (f"| tree | page ({sizes}) | req/s small | req/s large | small ÷ large | ≤ 1.2 "
                  "| server CPU ms/req small → large |"), "|---|---|---:|---:|---:|---|---|"]
        for row in growth:
            cpu = (f"{row['cpu_ms_small']:.1f} → {row['cpu_ms_large']:.1f}"
                   if row["cpu_ms_small"] and row["cpu_ms_large"] else "–")
            lines.append(f"| {row['label']} | {row['page']} | {row['rps_small']:.1f} | {row['rps_large']:.1f} "
                         f"| {row['growth']:.2f} | {_met(row['growth'] <= TARGETS['growth'])} | {cpu} |")
    lines += ["", ("| tree | persons | page | first visit KB | repeat visit KB | HTML KB (encoding) "
              "| < 30 KB |"), "|---|---:|---|---:|---:|---|---|"]
    for info in trees:
        for w in info.get("weight", []):
            lines.append(f"| {info['label']} | {info.get('persons', 0)} | {w['page']} "
                         f"| {w['first_visit_bytes'] / 1024:.1f} | {w['repeat_visit_bytes'] / 1024:.1f} "
                         f"| {w['html_bytes'] / 1024:.1f} ({w['html_encoding']}) "
                         f"| {_met(w['first_visit_bytes'] < TARGETS['first_load_kb'] * 1024)} |")
        for sw in info.get("swaps", []):
            lines.append(f"| {info['label']} | {info.get('persons', 0)} | htmx {sw['path']} "
                         f"| {sw['bytes'] / 1024:.1f} | – | ({sw['encoding']}) "
                         f"| {_met(sw['bytes'] < TARGETS['swap_kb'] * 1024)} (< 5 KB swap) |")
    return "\n".join(lines)


def growth_rows(trees: list[dict]) -> list[dict]:
    """Per tree and page: requests/s at the smallest and the largest size, and their ratio."""
    rows = []
    for tree in dict.fromkeys(t["tree"] for t in trees):
        sized = sorted((t for t in trees if t["tree"] == tree), key=lambda t: t.get("persons", 0))
        label = sized[-1]["label"]
        if len(sized) < 2:
            continue
        small, large = sized[0], sized[-1]
        for run in small["runs"]:
            other = next((r for r in large["runs"] if r["page"] == run["page"]
                          and (r["target"] == "reference") == (run["target"] == "reference")), None)
            if other and other["rps"] and run["target"] != "reference":
                rows.append({"label": label, "page": run["page"], "rps_small": run["rps"],
                             "rps_large": other["rps"], "growth": run["rps"] / other["rps"],
                             "cpu_ms_small": run["server_cpu_ms_per_request"],
                             "cpu_ms_large": other["server_cpu_ms_per_request"],
                             "persons": [small.get("persons"), large.get("persons")]})
    return rows


def machine() -> dict:
    """CPU model, cores, load and the versions of what ran."""
    def first_line(argv: list[str]) -> str:
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
            return (result.stdout or result.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return ""

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "")
    return {"cpu": cpu, "cpus": os.cpu_count(), "loadavg_end": os.getloadavg(),
            "host": socket.gethostname(), "python": sys.version.split()[0],
            "wrk": first_line(["wrk", "-v"]), "postgresql": first_line(["psql", "--version"]),
            "redis": first_line(["redis-server", "--version"]),
            "kernel": first_line(["uname", "-sr"])}


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path,
                        help="a portal checkout with its own .venv (repeatable; default: this one)")
    parser.add_argument("--sizes", default="1000",
                        help="generated persons per run, comma-separated (e.g. 1000,100000; 0: demo only)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each run")
    parser.add_argument("--pages", default=",".join(CITIZEN_PAGES + STAFF_PAGES))
    parser.add_argument("--citizens", type=int, default=30, help="people signed in (rotated)")
    parser.add_argument("--staff", type=int, default=6, help="staff members signed in (rotated)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL,
                        help="PostgreSQL URL allowed to CREATE/DROP DATABASE")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="flushed before and after each tree")
    parser.add_argument("--seed", choices=["services", "http"], default="services",
                        help="how Viola's plan is made (http: the staff editor, for testing)")
    parser.add_argument("--no-reference", dest="reference", action="store_false")
    parser.add_argument("--portal-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the portal under test (repeatable), e.g. "
                             "PORTAL_PAGE_CACHE_SECONDS=0: every view as costly as a first one")
    args = parser.parse_args(argv)
    args.tree = [t.resolve() for t in (args.tree or [ROOT])]
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    try:
        args.sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    except ValueError:
        parser.error("--sizes is a comma-separated list of numbers")
    if not 1 <= args.seconds <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--seconds must be 1..120 and --warmup 0..30")
    for page in args.pages:
        if not page.startswith("/"):
            parser.error(f"a page is a path: {page}")
    for item in args.portal_env:
        if not item.startswith("PORTAL_") or "=" not in item:
            parser.error(f"--portal-env takes PORTAL_NAME=VALUE: {item}")
    require_local(args.admin_url, "--admin-url")
    require_local(args.redis_url, "--redis-url")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get update && apt-get install -y wrk")
    # SIGTERM unwinds like Ctrl-C, so the servers stop and the databases go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
    trees: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for persons in args.sizes:
            for n, tree in enumerate(args.tree):
                tree_tmp = Path(tmp) / f"{persons}-{n}"
                tree_tmp.mkdir()
                trees.append(bench_tree(tree, args, tree_tmp, persons))
                path, text, footer = write_results(args, started, trees)  # after each run
    print(text)
    print(f"\n{footer}; JSON: {path.relative_to(ROOT)}")
    return 0


def rerender(path: Path) -> str:
    """The markdown tables again from a results JSON (e.g. after changing the table);
    its "growth" is computed again and saved."""
    result = json.loads(path.read_text())
    result["growth"] = growth_rows(result["trees"])
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return table(result["trees"])


def write_results(args, started: datetime, trees: list[dict]) -> tuple[Path, str, str]:
    """bench/results/load-<start>.json and .md with what has been measured so far."""
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"seconds": args.seconds, "warmup": args.warmup, "threads": args.threads,
                     "connections": args.connections, "pages": args.pages, "workers": 1,
                     "sizes": args.sizes, "citizens": args.citizens, "staff": args.staff},
        "targets": TARGETS,
        "growth": growth_rows(trees),
        "trees": trees,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime('%Y%m%dT%H%M%SZ')
    path = RESULTS / f"load-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    text = table(trees)
    m = result["machine"]
    footer = (f"{args.threads} wrk threads, {args.connections} connections, {args.seconds} s per page, "
              f"one worker, signed in as {args.citizens} people and {args.staff} staff members "
              f"(rotated per request); {m['cpu']}, {m['cpus']} CPUs, load {m['loadavg_end'][0]:.2f}; "
              f"{started:%Y-%m-%d %H:%M} UTC")
    (RESULTS / f"load-{stamp}.md").write_text(text + "\n\n" + footer + "\n")
    return path, text, footer


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(f"bench.load: {error}")
