"""Benchmark: render and sign the full demo report (PDF/A-3b, 15+ pages with charts).

Not a test (pytest does not collect bench_*.py). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_report.py
    .venv/bin/python tests/benchmarks/bench_report.py --repeats 9 --keep /tmp/demo-report.pdf

Setup (not timed): a throwaway SQLite database and media folder in a temporary VAR_DIR,
the demo data exactly as `make demo` creates it (catalog, users, the German-credit MLP and
the digits CNN, the shifted production batch), the audits the demo's worker runs (the fairness
audit with its defaults: 200 bootstrap resamples and the mitigation outlook; the drift review)
plus a data-quality audit, all run in-process, and a development PKI (RSA 2048, as
`make demo` makes).

Timed, --repeats times each (default 7), median reported:
  render = report_render(): the template context from the database, the Django template,
           WeasyPrint HTML -> PDF/A-3b (fonts subset with harfbuzz when libharfbuzz-subset0
           is installed, as `make` installs it);
  sign   = report_sign(): pyHanko PAdES certification signature, DocMDP "no changes".
Wall-clock (perf_counter) and CPU (process_time) are both printed: on a shared machine the
CPU time is the steadier figure; the load average is printed alongside.

Side by side, interleaved in the same run (before, now, before, now, ...), render + sign:
  before = the report as on --before (default 4671e9b, main before this change): that
           commit's report.html and report.css (read with `git show`), rendered from
           today's context (a superset of what that template reads), with no attachment (the
           full per-control coverage table in the body), and WeasyPrint's own SVG text
           drawing (one Pango layout per letter of each chart label);
  now    = service.report_render + service.report_sign as they are (the coverage summary in
           the body, the full table as an attached CSV, chart labels one layout each:
           audits/reports/svg_text.py).
Counted for both (work that no load on the machine changes): pages, computed styles, and
Pango line-breaking calls of the layout (split_first_line).
--profile N prints the top N functions (own time) of one render + sign under cProfile.
"""

import argparse
import contextlib
import ctypes.util
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


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
    # What `make demo`'s worker runs (the fairness audit, the drift review), in-process; plus a
    # data-quality audit, so the report has one more section than the demo's.
    version = ModelVersion.objects.select_related("system").get(system__slug="credit-scoring", version="1.0.0")
    audit_run_create(actor=version.created_by, version=version, kind="data_quality")
    for run in AuditRun.objects.filter(status="queued", version=version).order_by("created_at"):
        assert audit_run_execute(run_id=run.pk) == "succeeded", AuditRun.objects.get(pk=run.pk).error
    kinds = sorted(AuditRun.objects.filter(version=version, status="succeeded").values_list("kind", flat=True))
    report = Report.objects.create(system=version.system, version=version, created_by=version.created_by,
                                   report_number="R-2026-0001")
    return report, kinds


def git_show(ref, path):
    import subprocess

    return subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


@contextlib.contextmanager
def stock_svg_text():
    """WeasyPrint's own SVG text drawing (a letter at a time), as before svg_text.py."""
    from weasyprint import svg as weasy_svg

    from audits.reports import svg_text

    fast = {tag: fn for tag, fn in weasy_svg.TAGS.items() if fn is svg_text.text}
    weasy_svg.TAGS.update(dict.fromkeys(fast, svg_text._stock_text))
    weasy_svg.text = svg_text._stock_text
    try:
        yield
    finally:
        weasy_svg.TAGS.update(fast)
        weasy_svg.text = svg_text.text


def render_before(report, generated_at, *, template, css):
    """report_render as on the --before commit: its template and stylesheet, no attachment,
    WeasyPrint's own SVG text drawing."""
    with stock_svg_text():
        return _render_before(report, generated_at, template=template, css=css)


def _render_before(report, generated_at, *, template, css):
    from django.conf import settings
    from django.template import engines

    from audits.reports import service, signing
    from audits.reports.context import report_context
    from audits.reports.pdf import REPORT_CSS_BASE, render_pdf

    context = report_context(report=report, generated_at=generated_at)
    config = service.signing_config()
    context["development_signer"] = signing.is_development_signer(config.pkcs12_path, config.passphrase)
    html = engines["django"].from_string(template).render(context)
    return render_pdf(
        html, variant="pdf/a-3b", lang="en", created=generated_at,
        title=f"Audit report {report.report_number}: {report.system.name} {report.version.version}",
        author=settings.REPORT_ORGANISATION, subject=f"Signed audit report for {report.system.name}",
        keywords=["AI audit report", "NIST AI RMF 1.0", "ISO/IEC 42001:2023", report.report_number],
        stylesheets=(REPORT_CSS_BASE, css))


def sign_before(report, pdf, config):
    from audits.reports import service

    return service.report_sign(report=report, pdf=pdf, config=config)


def line_breaks(fn):
    """How many Pango line layouts one call of fn makes: the layout's lines and the charts'
    labels (WeasyPrint's SVG text makes one per letter, svg_text.py one per label)."""
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    from audits.reports import svg_text

    real, count = line_break.split_first_line, [0]

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    # WeasyPrint's SVG text imports it when it runs; the layout and svg_text when they load.
    line_break.split_first_line = inline.split_first_line = svg_text.split_first_line = counting
    try:
        fn()
    finally:
        line_break.split_first_line = inline.split_first_line = svg_text.split_first_line = real
    return count[0]


def side_by_side(before, now, repeats):
    """Interleaved, so that both see the same load: (median wall, median CPU) of each."""
    runs = {"before": ([], []), "now": ([], [])}
    for i in range(repeats):
        # Alternate the order: a render leaves garbage that the next one's collector pays for.
        pairs = (("before", before), ("now", now))
        for name, fn in pairs if i % 2 == 0 else pairs[::-1]:
            w, c = time.perf_counter(), time.process_time()
            fn()
            runs[name][0].append(time.perf_counter() - w)
            runs[name][1].append(time.process_time() - c)
    return {name: (statistics.median(w), statistics.median(c), w, c) for name, (w, c) in runs.items()}


def computed_styles(fn):
    """How many computed styles WeasyPrint builds in one call of fn (elements and pseudo-elements):
    a count of work that, unlike time, no other load on the machine changes."""
    from weasyprint import css

    real, count = css.StyleFor.set_computed_styles, [0]

    def counting(self, *args, **kwargs):
        count[0] += 1
        return real(self, *args, **kwargs)

    css.StyleFor.set_computed_styles = counting
    try:
        fn()
    finally:
        css.StyleFor.set_computed_styles = real
    return count[0]


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
        print(f"| `{where}:{line}({name})` | {calls:,} | {own:.2f} s | {cumulative:.2f} s |")


def timed(fn, repeats):
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), min(walls), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", help="write the signed PDF here")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    # The last commit before the coverage summary and the per-label chart text: a fixed
    # commit, so that "before" stays the same report once this branch is merged.
    parser.add_argument("--before", default="4671e9b", help="the commit whose report is 'before' (default: 4671e9b)")
    args = parser.parse_args()
    old = {"template": git_show(args.before, "audits/reports/templates/reports/report.html"),
           "css": git_show(args.before, "audits/reports/report.css")}

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        setup_django(Path(tmp))
        from django.utils import timezone
        from pyhanko.pdf_utils.reader import PdfFileReader

        from audits.reports import service

        print("setting up the demo data and audits (not timed) ...", flush=True)
        report, kinds = demo_data()
        report = type(report).objects.select_related(
            "system__owner", "version__parent", "version__train_dataset", "version__eval_dataset", "created_by",
        ).get(pk=report.pk)
        config = service.signing_config()
        now = timezone.now()
        service.report_sign(report=report, pdf=service.report_render(report=report, generated_at=now), config=config)

        start_load = os.getloadavg()
        render = timed(lambda: service.report_render(report=report, generated_at=now), args.repeats)
        pdf = render[3]
        sign = timed(lambda: service.report_sign(report=report, pdf=pdf, config=config), args.repeats)
        signed = sign[3]
        def both():
            return service.report_sign(report=report, pdf=service.report_render(report=report, generated_at=now),
                                       config=config)

        total = timed(both, args.repeats)
        before_pdf = sign_before(report, render_before(report, now, **old), config)
        styles = {"before": computed_styles(lambda: render_before(report, now, **old)), "now": computed_styles(both)}
        lines = {"before": line_breaks(lambda: render_before(report, now, **old)), "now": line_breaks(both)}
        compared = side_by_side(lambda: sign_before(report, render_before(report, now, **old), config), both,
                                args.repeats)
        if args.profile:
            profile(both, args.profile)
        import io

        pages = int(PdfFileReader(io.BytesIO(signed)).root["/Pages"]["/Count"])
        from audits.reports.context import report_context
        from django.template.loader import render_to_string

        html = render_to_string("reports/report.html", report_context(report=report, generated_at=now))
        charts = html.count("data:image/svg+xml") + html.count("<svg")
        check = service._verify(signed)
        before_pages = int(PdfFileReader(io.BytesIO(before_pdf)).root["/Pages"]["/Count"])
        if args.keep:
            Path(args.keep).write_bytes(signed)

    from importlib.metadata import version

    harfbuzz = ctypes.util.find_library("harfbuzz-subset") or "not found"
    load = os.getloadavg()
    print(f"\nload average at the start of the timed runs: {start_load[0]:.1f} / {start_load[1]:.1f} / {start_load[2]:.1f}")
    rows = [("render (context + template + WeasyPrint PDF/A-3b)", render),
            ("sign (pyHanko PAdES, the development RSA 2048 signer)", sign),
            ("render + sign", total)]
    print()
    print("### Signed PDF report: render and sign the full demo report")
    print()
    print(f"`.venv/bin/python tests/benchmarks/bench_report.py --repeats {args.repeats}` — the demo's credit-scoring "
          f"report with the {', '.join(kinds)} audits: {pages} pages, {charts} SVG charts, {len(signed):,} bytes, "
          f"signature check: {check.status}.")
    print()
    print("| step | median wall | median CPU | best wall |")
    print("|---|---:|---:|---:|")
    for label, (wall, cpu, best, _) in rows:
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {best:.2f} s |")
    print()
    print()
    print(f"Side by side, interleaved, median of {args.repeats} each (before = {args.before}):")
    print()
    print("| render + sign | median wall (min–max) | median CPU (min–max) | pages | computed styles | line breaks |")
    print("|---|---:|---:|---:|---:|---:|")
    n_pages = {"before": before_pages, "now": pages}
    for name in ("before", "now"):
        (wall, cpu, walls, cpus) = compared[name]
        print(f"| {name} | {wall:.2f} s ({min(walls):.2f}–{max(walls):.2f}) | {cpu:.2f} s ({min(cpus):.2f}–"
              f"{max(cpus):.2f}) | {n_pages[name]} | {styles[name]:,} | {lines[name]:,} |")
    print(f"| now / before | {compared['now'][0] / compared['before'][0]:.2f} | "
          f"{compared['now'][1] / compared['before'][1]:.2f} | {pages / before_pages:.2f} | "
          f"{styles['now'] / styles['before']:.2f} | {lines['now'] / lines['before']:.2f} |")
    print()
    print(f"Target: render + sign median at most 1.2 s — {'met' if total[0] <= 1.2 else 'NOT met'} on wall-clock, "
          f"{'met' if total[1] <= 1.2 else 'NOT met'} on CPU time.")
    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} during the run; Python {platform.python_version()}, WeasyPrint {version('weasyprint')}, "
          f"pyHanko {version('pyHanko')}, harfbuzz-subset: {harfbuzz}.")


if __name__ == "__main__":
    main()
