"""``nestogy run`` end to end: serves, runs worker and scheduler, and stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_processes(sid):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) == sid:
                pids.append(int(entry))
        except (ProcessLookupError, PermissionError):
            continue
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_run_serves_and_ctrl_c_leaves_no_process(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(NESTOGY_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1",
               DJANGO_SETTINGS_MODULE="nestogy.settings")
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "nestogy", "run", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # migrate + demo seeding; slow under a loaded -n auto run
        banner = ""
        while time.monotonic() < deadline:
            log.seek(0)
            banner = log.read()
            if "Press Ctrl-C to stop." in banner or proc.poll() is not None:
                break
            time.sleep(0.5)
        assert "Press Ctrl-C to stop." in banner, banner[-3000:]
        assert f"http://127.0.0.1:{port}" in banner
        assert "owner@northwind.example" in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/docs") as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as response:
            assert response.status == 200
        with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/static/admin/css/base.css") as response:
            assert response.status == 200
        # The children print their own start-up lines a moment after the banner.
        deadline = time.monotonic() + 30
        while not ("Worker" in banner and "Schedule:" in banner) \
                and time.monotonic() < deadline:
            time.sleep(0.5)
            log.seek(0)
            banner = log.read()
        assert "Schedule:" in banner, banner[-2000:]
        assert "Worker" in banner, banner[-2000:]
        assert len(session_processes(proc.pid)) >= 4  # run, web (+workers), worker, scheduler
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        log.seek(0)
        output = log.read()
    assert proc.returncode == 0, output[-3000:]
    assert "Stopped." in output
    time.sleep(0.5)
    assert session_processes(proc.pid) == [], "processes left behind after Ctrl-C"
