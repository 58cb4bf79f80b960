"""``nestogy run``: the all-in-one embedded mode.

Migrates, seeds demo data into an empty database, then runs the web server, one task
worker and the scheduler as child processes and supervises them: Ctrl-C or SIGTERM stops
all three (each in its own process group, so grandchildren such as gunicorn's workers go
too), and if one dies unexpectedly the others are stopped and the exit code is non-zero.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from nestogy.ops.demo import demo_exists, demo_logins
from nestogy.tenancy.models import Company

STOP_TIMEOUT = 15.0


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this child if the supervisor is killed outright."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Command(BaseCommand):
    help = "Migrate, seed demo data if empty, and run web + worker + scheduler together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("NESTOGY_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int,
                            default=int(os.environ.get("NESTOGY_PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true",
                            help="Do not seed demo data into an empty database")

    def handle(self, *args, **options):
        self.stdout.write("Applying migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"] and not Company.objects.exists():
            call_command("demo", stdout=self.stdout)
        host, port = options["host"], options["port"]
        children = self._start(host, port)
        self._stop_requested = False
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        ready = self._wait_ready(host, port, children)
        if ready:
            self._banner(host, port, children)
        exit_code = 0 if ready else 1
        while ready and not self._stop_requested:
            dead = [name for name, proc in children.items() if proc.poll() is not None]
            if dead:
                self.stderr.write(f"{', '.join(dead)} exited unexpectedly; stopping the rest.")
                exit_code = 1
                break
            time.sleep(0.5)
        self._stop(children)
        if exit_code:
            sys.exit(exit_code)

    def _request_stop(self, signum, frame):
        self._stop_requested = True

    def _start(self, host: str, port: int) -> dict[str, subprocess.Popen]:
        base = [sys.executable, "-m", "nestogy"]
        commands = {
            "web": [*base, "serve", "--host", host, "--port", str(port)],
            "worker": [*base, "worker"],
            "scheduler": [*base, "scheduler"],
        }
        children = {}
        for name, argv in commands.items():
            children[name] = subprocess.Popen(  # noqa: S603 (our own interpreter and argv)
                argv, process_group=0, preexec_fn=_die_with_parent)
        return children

    def _wait_ready(self, host, port, children, timeout=60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stop_requested:
            if any(proc.poll() is not None for proc in children.values()):
                return False
            # The supervisor probing its own child on the address it was told to bind (not
            # a request on a tenant's behalf, so not through nestogy.core.egress).
            probe = http.client.HTTPConnection(host, port, timeout=2)
            try:
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                time.sleep(0.3)
            finally:
                probe.close()
        return False

    def _banner(self, host, port, children):
        base = f"http://{host}:{port}"
        lines = [
            "",
            self.style.SUCCESS(f"Nestogy is running at {base}"),
            f"  Workspace:    {base}/app/  (technicians, dispatchers, managers)",
            f"  Operators:    {base}/admin/  (platform superusers only)",
            f"  API docs:     {base}/api/v1/docs",
            f"  Client portal: {base}/portal/",
            "  Processes:    " + ", ".join(f"{n} (pid {p.pid})" for n, p in children.items()),
        ]
        if demo_exists():
            lines.append("  Demo logins (password for all: see below):")
            lines += [f"    {who:<36} {email:<28} {password}"
                      for who, email, password in demo_logins()]
        lines.append("Press Ctrl-C to stop.")
        self.stdout.write("\n".join(lines))

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        self.stdout.write("Stopping web, worker and scheduler…")
        for proc in children.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for name, proc in children.items():
            # Kill whatever is left in each group (including grandchildren).
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                if proc.poll() is None:
                    self.stderr.write(f"{name} did not stop in time; killed.")
            except ProcessLookupError:
                pass
            proc.wait()
        self.stdout.write("Stopped.")
