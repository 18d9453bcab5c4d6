"""Requests per second over real HTTP, one uvicorn worker, PostgreSQL + Redis: `make bench-load`.

    .venv/bin/python -m bench.load --tree /work/wt-before --tree /work/main \
        --seconds 10 --pages /plan,/,/samtycke

For each checkout (a git worktree of the portal with its own .venv) this

1. creates a fresh PostgreSQL database on 127.0.0.1 and flushes a Redis db,
   runs `python -m portal migrate` and `python -m portal demo` from that tree,
   and gives Viola a published plan (bench/seed.py through the tree's own
   services; if that fails, the staff editor over HTTP as Anna);
2. starts `python -m portal serve` from that tree with PORTAL_WORKERS=1 on a
   free port, waits for /healthz, and logs in as Viola through the development
   identity provider over HTTP;
3. checks each page once (200, signed in, no redirect), then runs wrk against
   it (a short warm-up first, then `-t2 -c8 -d{seconds}s --latency`);
4. stops the portal and runs the same wrk against bench/reference.py, one
   worker: /a returns that tree's saved /plan HTML, /b does one Redis GET and
   one indexed SELECT first. "ratio" in the table is the page's requests per
   second divided by /b's, measured right after, on the same machine. The
   server's CPU time per request (user + system, from /proc) is recorded too:
   on a busy machine it moves much less than requests per second;
5. stops every server, drops the database and flushes the Redis db, also on error.

The table goes to stdout, everything (raw wrk output too) to
bench/results/load-<timestamp>.json. Only 127.0.0.1 is ever loaded.
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
STARTUP_TIMEOUT = 60
COMMAND_TIMEOUT = 300


class BenchError(RuntimeError):
    pass


@dataclass
class Run:
    """One wrk run against one URL."""

    target: str
    page: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: str
    loadavg_before: tuple[float, float, float]
    raw: str = field(repr=False)
    server_cpu_ms_per_request: float | None = None
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
    choice = client.post(form.get("action"), data=data)
    if choice.status_code not in (302, 303):
        raise BenchError(f"the provider answered {choice.status_code} to the choice of {who}")
    callback = client.get(choice.headers["location"])
    if callback.status_code not in (302, 303) or "/auth/login" in callback.headers.get("location", ""):
        raise BenchError(f"the login callback for {who} failed ({callback.status_code})")


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
    if page == "/plan" and FOLLOW_UP["place"] not in response.text:
        raise BenchError("GET /plan shows no published plan")
    return response.text


# --- wrk -------------------------------------------------------------------------------------


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * UNITS_MS[unit]


def wrk(url: str, *, seconds: int, threads: int, connections: int, cookie: str = "") -> str:
    require_local(url, "the load target")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "10s"]
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    result = subprocess.run([*argv, url], check=False, capture_output=True, text=True,
                            timeout=seconds + 60)
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


def measure(target: str, page: str, url: str, args, server_pid: int, cookie: str = "") -> Run:
    """Warm up, then one wrk run; also the server's CPU time per request, which a busy
    machine disturbs much less than requests per second."""
    if args.warmup:
        wrk(url, seconds=args.warmup, threads=args.threads, connections=args.connections,
            cookie=cookie)
    loadavg = os.getloadavg()
    cpu_before = cpu_seconds(server_pid)
    raw = wrk(url, seconds=args.seconds, threads=args.threads, connections=args.connections,
              cookie=cookie)
    cpu = cpu_seconds(server_pid) - cpu_before
    run = parse_wrk(target, page, raw, loadavg)
    if run.requests:
        run.server_cpu_ms_per_request = cpu * 1000 / run.requests
    log(f"{target} {page}: {run.rps:.1f} req/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, "
        f"server CPU {run.server_cpu_ms_per_request or 0:.2f} ms/request")
    if run.non_2xx_3xx or run.socket_errors:
        log(f"  warning: {run.non_2xx_3xx} non-2xx/3xx, socket errors: {run.socket_errors or 0}")
    return run


# --- one tree --------------------------------------------------------------------------------


def bench_tree(tree: Path, args, tmp: Path) -> dict:
    python = tree / ".venv" / "bin" / "python"
    if not python.exists():
        raise BenchError(f"{python} is missing: run `make install` in {tree}")
    info = {"tree": str(tree), **git_info(tree)}
    label = f"{tree.name}@{info['app_commit'][:7]}{'+dirty' if info['dirty'] else ''}"
    info["label"] = label
    log(f"--- {label}")
    with fresh_database(args.admin_url) as database_url, flushed_redis(args.redis_url):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = portal_env(tree, database_url, args.redis_url, port, tmp)
        run_command([str(python), "-m", "portal", "migrate"], cwd=tree, env=env)
        run_command([str(python), "-m", "portal", "demo"], cwd=tree, env=env)
        seed = {"plan": "http (forced)"}
        if args.seed != "http":
            out = run_command([str(python), str(ROOT / "bench" / "seed.py"), database_url],
                              cwd=tree, env=env)
            seed = json.loads(out.strip().splitlines()[-1])
        viola = seed.get("viola") or person_id(database_url, "Viola")
        argv = [str(python), "-m", "portal", "serve"]
        with server(argv, cwd=tree, env=env, logfile=tmp / f"portal-{port}.log",
                    health_url=f"{base_url}/healthz") as proc:
            if seed["plan"] != "services":
                log(f"seeding through the services: {seed['plan']}; using the staff editor")
                plan_over_http(base_url, viola)
                seed["plan"] = "http"
            with httpx.Client(base_url=base_url, timeout=30) as client:
                login(client, "citizen", "Viola")
                cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
                htmls = {page: check_page(client, page) for page in args.pages}
                plan_html = htmls.get("/plan") or check_page(client, "/plan")
                runs = []
                for page in args.pages:
                    runs.append(measure(label, page, base_url + page, args, proc.pid, cookie))
                    check_page(client, page)  # still signed in: wrk counts redirects as success
        info["seed"] = seed
        info["bytes"] = {page: len(html.encode()) for page, html in htmls.items()}
        if args.reference:
            ref = bench_reference(plan_html, database_url, viola, args, tmp)
            b = next(r for r in ref if r.page == "/b")
            for run in runs + ref:
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


def table(trees: list[dict]) -> str:
    lines = ["| tree | page | requests/s | p50 ms | p99 ms | ratio to ref b | server CPU ms/req |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for info in trees:
        for run in info["runs"]:
            target = info["label"] if run["target"] != "reference" else f"reference ({info['label']})"
            ratio = f"{run['ratio_to_b']:.2f}" if run["ratio_to_b"] is not None else "–"
            cpu = run["server_cpu_ms_per_request"]
            cpu = f"{cpu:.2f}" if cpu is not None else "–"
            lines.append(f"| {target} | {run['page']} | {run['rps']:.1f} | {run['p50_ms']:.1f} "
                         f"| {run['p99_ms']:.1f} | {ratio} | {cpu} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path,
                        help="a portal checkout with its own .venv (repeatable; default: this one)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each run")
    parser.add_argument("--pages", default="/plan,/,/samtycke")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL,
                        help="PostgreSQL URL allowed to CREATE/DROP DATABASE")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="flushed before and after each tree")
    parser.add_argument("--seed", choices=["services", "http"], default="services",
                        help="how Viola's plan is made (http: the staff editor, for testing)")
    parser.add_argument("--no-reference", dest="reference", action="store_false")
    args = parser.parse_args(argv)
    args.tree = [t.resolve() for t in (args.tree or [ROOT])]
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    if not 1 <= args.seconds <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--seconds must be 1..120 and --warmup 0..30")
    for page in args.pages:
        if not page.startswith("/"):
            parser.error(f"a page is a path: {page}")
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
    trees = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for n, tree in enumerate(args.tree):
            tree_tmp = Path(tmp) / str(n)
            tree_tmp.mkdir()
            trees.append(bench_tree(tree, args, tree_tmp))
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg_end": os.getloadavg(),
                    "host": socket.gethostname()},
        "settings": {"seconds": args.seconds, "warmup": args.warmup, "threads": args.threads,
                     "connections": args.connections, "pages": args.pages, "workers": 1},
        "trees": trees,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"load-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(trees))
    print(f"\n{args.threads} threads, {args.connections} connections, {args.seconds} s per page, "
          f"one worker, {os.cpu_count()} CPUs; JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(f"bench.load: {error}")
