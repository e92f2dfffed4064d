"""Benchmark: render and sign the full demo report (PDF/A-3b), Typst against WeasyPrint.

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_report.py
    .venv/bin/python tests/benchmarks/bench_report.py --repeats 9 --keep /tmp/demo-report.pdf

Setup (not timed): a throwaway SQLite database and media folder in a temporary VAR_DIR,
the demo data exactly as `make demo` creates it (catalog, users, the German-credit MLP and
the digits CNN, the shifted production batch), the audits the demo's worker runs plus a
data-quality audit, all run in-process, and a development PKI (RSA 2048, as `make demo` makes).

Timed, --repeats times each (default 7), median reported:
  render = report_render(): the template context from the database, the Django template, the
           HTML written as Typst markup and typeset to PDF/A-3b;
  sign   = report_sign(): pyHanko PAdES certification signature, DocMDP "no changes".
Wall-clock (perf_counter) and CPU (process_time) are both printed: on a shared machine the
CPU time is the steadier figure; the load average is printed alongside.

Side by side, interleaved in the same run (before, now, now, before, ...), render + sign:
  before = the report as on --before (default eb2b72e, main before Typst): that commit's
           report.html, report.css, pdf.py and svg_text.py (read with `git show`), WeasyPrint
           70.0 in its own virtual environment (.venv-weasyprint-70, made on first use with pip
           and that commit's constraints), in a helper process that keeps its fonts and parsed
           stylesheets between renders as a worker did. This process renders the template
           (today's context, a superset of what that template reads) and signs; the helper
           typesets and reports the CPU time it spent, which is added to this process's.
           WeasyPrint subsets fonts about 3x faster with Debian's libharfbuzz-subset0, which
           the project no longer installs: install it for a fair "before" (the run prints
           whether it was found);
  now    = service.report_render + service.report_sign as they are.
--profile N prints the top N functions (own time) of one render + sign under cProfile.
"""

import argparse
import ctypes.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BEFORE_VENV = ROOT / ".venv-weasyprint-70"

# The helper: renders the HTML files it is sent with the old pdf.py, answers with its CPU time.
HELPER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from audits.reports.pdf import REPORT_CSS_BASE, PdfAttachment, render_pdf
css = open(sys.argv[2], encoding="utf-8").read()
for line in sys.stdin:
    job = json.loads(line)
    c = time.process_time()
    pdf = render_pdf(open(job["html"], encoding="utf-8").read(), variant="pdf/a-3b", lang="en",
                     created=job["created"], title=job["title"], author=job["author"], subject=job["subject"],
                     keywords=job["keywords"], stylesheets=(REPORT_CSS_BASE, css),
                     attachments=[PdfAttachment(name=job["attachment"], data=open(job["csv"], "rb").read(),
                                                description=job["description"], relationship="Data")])
    open(job["out"], "wb").write(pdf)
    print(json.dumps({"cpu": time.process_time() - c}), flush=True)
"""


def setup_django(var_dir: Path):
    os.environ.update({"VAR_DIR": str(var_dir), "DEBUG": "1", "SECRET_KEY": "bench-only",
                       "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                       "DJANGO_SETTINGS_MODULE": "governance.settings", "LOG_LEVEL": "WARNING"})
    os.environ.pop("REPORT_SIGNING_PASSPHRASE", None)
    os.environ.pop("REPORT_SIGNING_P12", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def demo_data():
    from audits.runs.models import AuditRun
    from audits.reports.models import Report
    from audits.runs.services import audit_run_create, audit_run_execute
    from governance.demo.setup import demo_setup
    from governance.registry.models import ModelVersion

    demo_setup(log=lambda *_: None)
    # What `make demo`'s worker runs, in-process; plus a data-quality audit.
    version = ModelVersion.objects.select_related("system").get(system__slug="credit-scoring", version="1.0.0")
    audit_run_create(actor=version.created_by, version=version, kind="data_quality")
    for run in AuditRun.objects.filter(status="queued", version=version).order_by("created_at"):
        assert audit_run_execute(run_id=run.pk) == "succeeded", AuditRun.objects.get(pk=run.pk).error
    kinds = sorted(AuditRun.objects.filter(version=version, status="succeeded").values_list("kind", flat=True))
    report = Report.objects.create(system=version.system, version=version, created_by=version.created_by,
                                   report_number="R-2026-0001")
    return report, kinds


def git_show(ref, path):
    return subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def before_environment(ref):
    """The WeasyPrint 70 virtual environment (made once) and the old modules, in a folder."""
    python = BEFORE_VENV / "bin" / "python"
    if not python.exists():
        print(f"making {BEFORE_VENV.name} (WeasyPrint 70.0, once) ...", flush=True)
        constraints = Path(tempfile.mkdtemp()) / "constraints.txt"
        constraints.write_text(git_show(ref, "constraints.txt"))
        subprocess.run([sys.executable, "-m", "venv", str(BEFORE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(constraints), "weasyprint==70.0"],
                       check=True)
    package = Path(tempfile.mkdtemp(prefix="bench-weasyprint-"))
    (package / "audits" / "reports").mkdir(parents=True)
    for name in ("audits/__init__.py", "audits/reports/__init__.py"):
        (package / name).write_text("")
    for name in ("pdf.py", "svg_text.py", "report.css"):
        (package / "audits" / "reports" / name).write_text(git_show(ref, f"audits/reports/{name}"))
    return python, package


class Before:
    """report_render + report_sign as on the --before commit, typeset by the WeasyPrint helper."""

    def __init__(self, ref, report, generated_at, work):
        from django.conf import settings
        from django.template import engines

        from audits.reports import service, signing
        from audits.reports.attachments import coverage_csv
        from audits.reports.context import report_context

        python, package = before_environment(ref)
        self.helper = subprocess.Popen(
            [str(python), "-c", HELPER, str(package), str(package / "audits" / "reports" / "report.css")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.template = engines["django"].from_string(git_show(ref, "audits/reports/templates/reports/report.html"))
        self.report, self.generated_at, self.work = report, generated_at, work
        self.config = service.signing_config()
        self._service, self._signing, self._context, self._csv = service, signing, report_context, coverage_csv
        self._meta = {
            "created": generated_at.isoformat(timespec="seconds"),
            "title": f"Audit report {report.report_number}: {report.system.name} {report.version.version}",
            "author": settings.REPORT_ORGANISATION,
            "subject": f"Signed audit report for {report.system.name} ({report.system.slug}) "
                       f"version {report.version.version}",
            "keywords": ["AI audit report", "NIST AI RMF 1.0", "ISO/IEC 42001:2023", report.report_number],
            "description": self._service.COVERAGE_DESCRIPTION.format(number=report.report_number),
        }
        self.helper_cpu = []

    def __call__(self):
        context = self._context(report=self.report, generated_at=self.generated_at)
        context["development_signer"] = self._signing.is_development_signer(self.config.pkcs12_path,
                                                                            self.config.passphrase)
        html, csv, out = self.work / "before.html", self.work / "before.csv", self.work / "before.pdf"
        html.write_text(self.template.render(context), encoding="utf-8")
        csv.write_bytes(self._csv(context["coverage"]))
        job = dict(self._meta, html=str(html), csv=str(csv), out=str(out), attachment=context["coverage"]["attachment"])
        self.helper.stdin.write(json.dumps(job) + "\n")
        self.helper.stdin.flush()
        self.helper_cpu.append(json.loads(self.helper.stdout.readline())["cpu"])
        return self._service.report_sign(report=self.report, pdf=out.read_bytes(), config=self.config)

    def close(self):
        self.helper.stdin.close()
        self.helper.wait(timeout=30)


def side_by_side(before, now, repeats):
    """Interleaved, so that both see the same load: (median wall, median CPU, walls, CPUs) of each.
    The CPU time of "before" adds what its helper process spent typesetting."""
    runs = {"before": ([], []), "now": ([], [])}
    for i in range(repeats):
        pairs = (("before", before), ("now", now))
        for name, fn in pairs if i % 2 == 0 else pairs[::-1]:
            w, c = time.perf_counter(), time.process_time()
            fn()
            runs[name][0].append(time.perf_counter() - w)
            runs[name][1].append(time.process_time() - c + (before.helper_cpu[-1] if name == "before" else 0))
    return {name: (statistics.median(w), statistics.median(c), w, c) for name, (w, c) in runs.items()}


def profile(fn, top):
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stats = pstats.Stats(profiler)
    print(f"\ncProfile of one render + sign (now), top {top} by own time, {stats.total_tt:.2f} s profiled:\n")
    print("| function | calls | own time | cumulative |")
    print("|---|---:|---:|---:|")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (path, line, name), (_, calls, own, cumulative, _) in rows:
        where = path.split("site-packages/")[-1] if "site-packages/" in path else Path(path).name
        print(f"| `{where}:{line}({name})` | {calls:,} | {own:.3f} s | {cumulative:.3f} s |")


def timed(fn, repeats):
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), min(walls), result


def page_count(pdf):
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", help="write the signed PDF here")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    # The last commit typeset by WeasyPrint: a fixed commit, so "before" stays the same report.
    parser.add_argument("--before", default="eb2b72e", help="the commit whose report is 'before' (default: eb2b72e)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        setup_django(Path(tmp))
        from django.utils import timezone

        from audits.reports import service

        print("setting up the demo data and audits (not timed) ...", flush=True)
        report, kinds = demo_data()
        report = type(report).objects.select_related(
            "system__owner", "version__parent", "version__train_dataset", "version__eval_dataset", "created_by",
        ).get(pk=report.pk)
        config = service.signing_config()
        now = timezone.now()

        def both():
            return service.report_sign(report=report, pdf=service.report_render(report=report, generated_at=now),
                                       config=config)

        before = Before(args.before, report, now, Path(tmp))
        before_pdf, signed = before(), both()  # warm-up: fonts, stylesheets, the signing key

        start_load = os.getloadavg()
        render = timed(lambda: service.report_render(report=report, generated_at=now), args.repeats)
        sign = timed(lambda: service.report_sign(report=report, pdf=render[3], config=config), args.repeats)
        total = timed(both, args.repeats)
        compared = side_by_side(before, both, args.repeats)
        before.close()
        if args.profile:
            profile(both, args.profile)
        check, before_check = service._verify(signed), service._verify(before_pdf)
        pages, before_pages = page_count(signed), page_count(before_pdf)
        if args.keep:
            Path(args.keep).write_bytes(signed)

    from importlib.metadata import version

    load = os.getloadavg()
    print(f"\nload average at the start of the timed runs: {start_load[0]:.1f} / {start_load[1]:.1f} / {start_load[2]:.1f}")
    print()
    print("### Signed PDF report: render and sign the full demo report")
    print()
    print(f"`.venv/bin/python tests/benchmarks/bench_report.py --repeats {args.repeats}` — the demo's credit-scoring "
          f"report with the {', '.join(kinds)} audits: {pages} pages, {len(signed):,} bytes, "
          f"signature check: {check.status} (before: {before_pages} pages, {len(before_pdf):,} bytes, "
          f"{before_check.status}).")
    print()
    print("| step (now) | median wall | median CPU | best wall |")
    print("|---|---:|---:|---:|")
    for label, (wall, cpu, best, _) in [("render (context + template + Typst PDF/A-3b)", render),
                                        ("sign (pyHanko PAdES, the development RSA 2048 signer)", sign),
                                        ("render + sign", total)]:
        print(f"| {label} | {wall:.3f} s | {cpu:.3f} s | {best:.3f} s |")
    print()
    print(f"Side by side, interleaved, median of {args.repeats} each (before = {args.before}, WeasyPrint 70.0):")
    print()
    print("| render + sign | median wall (min–max) | median CPU (min–max) | pages |")
    print("|---|---:|---:|---:|")
    n_pages = {"before": before_pages, "now": pages}
    for name in ("before", "now"):
        (wall, cpu, walls, cpus) = compared[name]
        print(f"| {name} | {wall:.3f} s ({min(walls):.3f}–{max(walls):.3f}) | {cpu:.3f} s ({min(cpus):.3f}–"
              f"{max(cpus):.3f}) | {n_pages[name]} |")
    print(f"| now / before | {compared['now'][0] / compared['before'][0]:.3f} | "
          f"{compared['now'][1] / compared['before'][1]:.3f} | {pages / before_pages:.2f} |")
    print()
    print(f"Target: render + sign median at most 1.2 s — {'met' if total[0] <= 1.2 else 'NOT met'} on wall-clock, "
          f"{'met' if total[1] <= 1.2 else 'NOT met'} on CPU time.")
    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} at the end; Python {platform.python_version()}, typst {version('typst')}, "
          f"pyHanko {version('pyHanko')}; for before, harfbuzz-subset: "
          f"{ctypes.util.find_library('harfbuzz-subset') or 'not found'}.")


if __name__ == "__main__":
    main()
