"""Item 2: the README run command sets everything up, serves the portal in Vietnamese, prints the
demo logins, and a second run reuses what exists. Runs the real script and a real server."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data_dir: Path, port: int) -> tuple[subprocess.Popen, list[str]]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"DATA_DIR": str(data_dir), "PORT": str(port)})
    proc = subprocess.Popen(
        ["bash", "scripts/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 240
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl+C" in line:
            break
    return proc, lines


def _get(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  loopback only
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        assert proc.stdout is not None
        proc.stdout.close()


def test_the_run_command_serves_the_demo_and_is_idempotent(tmp_path):
    port = _free_port()
    proc, lines = _start(tmp_path, port)
    try:
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}" in output, output
        assert "DM0001A" in output and "motcua.demo" in output and "ebhxh-demo-2026" in output
        html = _get(f"http://127.0.0.1:{port}/")
        assert "Giao dịch điện tử bảo hiểm xã hội" in html
        assert '"openapi"' in _get(f"http://127.0.0.1:{port}/api/v1/openapi.json")
    finally:
        _stop(proc)

    proc, lines = _start(tmp_path, port)
    try:
        output = "".join(lines)
        assert "không có gì mới / nothing new" in output, output
        assert "Giao dịch điện tử" in _get(f"http://127.0.0.1:{port}/")
    finally:
        _stop(proc)
