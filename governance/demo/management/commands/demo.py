"""`make demo`: set up the demo, start a real Celery worker, run the demo audits through it,
sign a report of the results, play the release story (governance/demo/release.py), then serve
the app until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from audits.runs.models import AuditRun, RunStatus
from audits.runs.worker import start_worker
from governance.demo.setup import demo_setup

PORT_TAKEN = ("{addrport} is already in use (another `make demo`?). Stop it, or pick another address: "
              "make demo ADDRPORT=127.0.0.1:8001")


def _check_port_free(addrport: str) -> None:
    host, _, port = addrport.rpartition(":")
    with socket.socket() as probe:
        try:
            probe.bind((host or "127.0.0.1", int(port)))
        except (OSError, ValueError):
            raise CommandError(PORT_TAKEN.format(addrport=addrport)) from None


class Command(BaseCommand):
    help = "Run the demo: setup, worker, demo audits, a signed report, the release story, web server."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Stop after the demo audit (for scripts).")
        parser.add_argument("--timeout", type=int, default=600)

    def handle(self, *args, addrport, no_serve, timeout, **options):
        if not no_serve:
            _check_port_free(addrport)  # say so now, not after minutes of setup
        if not os.environ.get("SITE_URL"):
            # Links in emails and reports point where this demo serves; the worker inherits it.
            os.environ["SITE_URL"] = settings.SITE_URL = f"http://{addrport}"
        state = demo_setup(log=self.stdout.write)
        log_path = settings.VAR_DIR / "worker.log"
        worker = start_worker(queues="cpu,gpu", beat=True, log_path=log_path)
        # SIGTERM (a process manager, `timeout`) must stop the worker too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(f"worker started (pid {worker.pid}, log {log_path})")
        try:
            self._wait(state.fairness_run.pk, worker, timeout)
            self._wait_for_the_rest(worker, timeout)
            self._signed_report(state.fairness_run, worker, timeout)
            self._release_story(worker, timeout, addrport)
            self._print_logins(state.users, addrport)
            if not no_serve:
                call_command("runserver", addrport, use_reloader=False)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except Exception:  # noqa: BLE001 - make sure it goes away
                worker.kill()

    def _wait(self, run_id, worker, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            run = AuditRun.objects.get(pk=run_id)
            line = f"demo fairness audit: {run.status} {run.progress:3d}% {run.stage}"
            if line != last:
                bar = "#" * (run.progress // 5)
                self.stdout.write(f"  [{bar:<20}] {line}")
                last = line
            if run.status == RunStatus.SUCCEEDED:
                self.stdout.write(self.style.SUCCESS(f"demo fairness audit succeeded: {run.outcome} - {run.log}"))
                return
            if run.status == RunStatus.FAILED:
                raise CommandError(f"demo fairness audit failed: {run.error}")
            if worker.poll() is not None:
                raise CommandError(f"the worker exited with code {worker.returncode}; see var/worker.log")
            time.sleep(0.5)
        raise CommandError("the demo audit did not finish in time; see var/worker.log")

    def _wait_for_the_rest(self, worker, timeout):
        """The other demo audits (drift, security) go into the report too, so wait for them."""
        deadline = time.monotonic() + timeout
        reported = set()
        while time.monotonic() < deadline and worker.poll() is None:
            runs = list(AuditRun.objects.select_related("version__system").order_by("created_at"))
            for run in runs:
                if run.is_finished and run.pk not in reported:
                    reported.add(run.pk)
                    detail = run.outcome or run.error
                    self.stdout.write(f"  {run.kind} audit of {run.version}: {run.status} ({detail})")
            if all(run.is_finished for run in runs):
                return
            time.sleep(0.5)
        self.stdout.write("some demo audits are still running; they will finish while the app is served")

    def _signed_report(self, run, worker, timeout):
        """One signed report of the audited credit version, built by the worker (idempotent)."""
        from audits.reports.models import Report, ReportStatus
        from audits.reports.service import SigningNotConfigured, report_ensure

        try:
            report = report_ensure(actor=run.created_by, version=run.version)
        except SigningNotConfigured as exc:
            self.stdout.write(f"no signed report: {exc.message}")
            return
        deadline = time.monotonic() + timeout
        while report.status == ReportStatus.GENERATING and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
            report = Report.objects.get(pk=report.pk)
        line = f"signed report {report.report_number}: {report.status} {report.error}".strip()
        self.stdout.write(self.style.SUCCESS(line) if report.status == ReportStatus.SIGNED else line)

    def _release_story(self, worker, timeout, addrport):
        """The release story: approvals flip the gate to allow, a drift breach flips it back."""
        from governance.core.exceptions import ApplicationError
        from governance.demo.release import StoryError, demo_release

        try:
            demo_release(alive=lambda: worker.poll() is None, timeout=timeout, log=self.stdout.write,
                         serve_url=f"http://{addrport}")
        except (StoryError, ApplicationError) as exc:  # the app is still worth serving; say what went wrong
            self.stdout.write(self.style.ERROR(f"release story stopped: {getattr(exc, 'message', exc)}"))

    def _print_logins(self, users, addrport):
        self.stdout.write("\nDemo logins (development only):")
        for username, password, role in users:
            self.stdout.write(f"  {username:<8} {password:<20} {role}")
        self.stdout.write(self.style.SUCCESS(f"\nOpen http://{addrport}/ (Ctrl-C to stop)\n"))
