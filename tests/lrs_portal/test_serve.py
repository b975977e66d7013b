"""`make serve`: gunicorn, a Celery worker and beat together, production-like
(docs/decisions/0026-a-production-like-server.md). The test runs the very command
a person types, against the test database as an application role (the processes
refuse a superuser), and stops it as Ctrl+C does."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "/usr/bin/make"
# Django, Celery and gunicorn each start in a few seconds; a machine shared by
# seven engineers has taken far longer (docs/decisions/0018).
BOOT_SECONDS = 240
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def app_role(transactional_db: None) -> Iterator[str]:
    """An application role made by setup_database_roles, committed so that the
    served processes can connect as it; dropped again afterwards, the tables
    handed back to the test's own role."""
    suffix = uuid.uuid4().hex[:8]
    app, owner = f"lrs_app_serve_{suffix}", f"lrs_owner_serve_{suffix}"
    call_command(
        "setup_database_roles", app_role=app, owner_role=owner, stdout=StringIO()
    )
    try:
        yield app
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'REASSIGN OWNED BY "{owner}" TO CURRENT_USER')
            for role in (app, owner):
                cursor.execute(f'DROP OWNED BY "{role}"')
                cursor.execute(f'DROP ROLE "{role}"')


def serve_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    db = connection.settings_dict
    broker = settings.CELERY_BROKER_URL
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": os.environ.get("CACHE_URL") or broker,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SERVE_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
        "CELERY_CONCURRENCY": "1",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "CONN_MAX_AGE": "0",
        "LOG_FORMAT": "json",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the tests' own; deploy refuses it
    env.update(overrides)
    return env


def descendants(pid: int) -> dict[int, str]:
    """Every process below pid, with its command line (from /proc)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        commands[int(entry.name)] = cmdline.decode(errors="replace")
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found[child] = commands.get(child, "")
        todo.extend(children.get(child, []))
    return found


def json_lines(text: str) -> list[dict[str, object]]:
    """The JSON log lines in honcho's output ("12:00:00 web.1 | {...}")."""
    found = []
    for line in text.splitlines():
        _, bar, rest = line.partition("| ")
        if bar and rest.startswith("{"):
            try:
                found.append(json.loads(rest))
            except ValueError:
                continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
        return response.status, dict(response.headers), response.read()


def wait_until_serving(process: subprocess.Popen[bytes], log: Path, base: str) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make serve exited:\n{log.read_text()[-4000:]}")
        text = log.read_text()
        try:
            status, _, _ = get(f"{base}/healthz")
        except OSError:
            status = 0
        # The worker and beat are up too, not only the web.
        if status == 200 and " ready." in text and "beat: Starting" in text:
            return
        time.sleep(1)
    pytest.fail(f"make serve did not answer in {BOOT_SECONDS} s:\n{log.read_text()}")


def test_make_serve_serves_pages_and_static_files_and_stops_on_ctrl_c(
    app_role, tmp_path
):
    db = connection.settings_dict
    env = serve_env(
        tmp_path,
        DATABASE_URL=f"postgres://{app_role}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    base = f"http://{env['SERVE_BIND']}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [MAKE, "-s", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives
        )
    try:
        wait_until_serving(process, log, base)
        status, headers, body = get(f"{base}/?uln=9276308686&postcode=LS2+9JT")
        static_status, static_headers, _ = get(f"{base}/static/app.css")
        running = descendants(process.pid)

        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = log.read_text()

    assert status == 200
    assert b"LRS Portal" in body
    # WhiteNoise serves the collected static files.
    assert static_status == 200
    assert static_headers["Content-Type"].startswith("text/css")
    # The access log: one line for the request, path only, joined by request id.
    finished = [
        e for e in json_lines(text) if e.get("request_id") == headers["X-Request-ID"]
    ]
    assert [e["request"] for e in finished if e["event"] == "request_finished"] == [
        "GET /"
    ]
    assert "9276308686" not in text
    assert "LS2" not in text
    # Everything make started is gone once it has stopped.
    commands = " ".join(running.values())
    assert commands.count("gunicorn") >= 3  # the master and two workers
    assert "worker --queues celery" in commands
    assert "beat" in commands
    assert [pid for pid in running if alive(pid)] == []


def test_make_serve_refuses_to_start_naming_each_missing_setting(tmp_path):
    env = serve_env(tmp_path)  # the test database's superuser, too
    for name in ("CELERY_BROKER_URL", "CACHE_URL", "ALLOWED_HOSTS"):
        env.pop(name)

    done = subprocess.run(
        [MAKE, "-s", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOOT_SECONDS,
        check=False,
    )

    output = done.stdout + done.stderr
    assert done.returncode != 0
    for named in ("CELERY_BROKER_URL", "CACHE_URL", "ALLOWED_HOSTS"):
        assert named in output
    assert "lrs_portal.E001" in output  # the superuser's role is refused too
    assert "Booting worker" not in output  # gunicorn never started
    assert "system   |" not in output  # nor honcho


def test_make_serve_refuses_to_start_without_a_secret_key(tmp_path):
    env = serve_env(tmp_path)
    env.pop("SECRET_KEY")

    done = subprocess.run(
        [MAKE, "-s", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOOT_SECONDS,
        check=False,
    )

    assert done.returncode != 0
    assert "SECRET_KEY is missing" in done.stderr
