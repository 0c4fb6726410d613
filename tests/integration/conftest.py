"""Real servers for the production profile: a private Redis, moto's S3 server and an SMTP server,
each its own process on a free loopback port, stopped at the end."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _serve(args: list[str], port: int, **kwargs):
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def redis_url():
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (scripts/test installs it)")
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    yield from (f"redis://127.0.0.1:{port}/0" for _ in _serve(args, port))


@pytest.fixture(scope="session")
def s3_endpoint():
    port = free_port()
    yield from (
        f"http://127.0.0.1:{port}"
        for _ in _serve([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port)
    )


@pytest.fixture
def smtp_server(tmp_path):
    """A real SMTP server process (aiosmtpd) delivering into a Maildir the test reads."""
    port = free_port()
    maildir = tmp_path / "maildir"
    args = [
        sys.executable,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "aiosmtpd.handlers.Mailbox",
        str(maildir),
    ]
    for _ in _serve(args, port):
        yield port, maildir


@pytest.fixture
def refusing_smtp_server(tmp_path):
    """Like smtp_server, but the server refuses messages first: returns a function taking the
    number of refusals (-1: all) and the SMTP reply, which starts it and gives (port, maildir)."""
    started = []

    def start(refusals: int, reply: str):
        port = free_port()
        maildir = tmp_path / f"maildir-{len(started)}"
        args = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "tests.integration.smtp_handlers.RefusingMailbox",
            str(maildir),
            str(refusals),
            reply,
        ]
        server = _serve(args, port, cwd=ROOT)
        next(server)
        started.append(server)
        return port, maildir

    yield start
    for server in started:
        server.close()


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result
