#!/usr/bin/env python3
"""browser: headless Chromium loads `tandem report` pages and checks that
- the page logs no error (errors, unhandled rejections, console.error and CSP violations are
  counted by the page in <html data-errors>, and Chromium's console log is scanned too);
- the plots render: every Vega view resolved its first render (data-rendered equals
  data-views) and each drew a canvas;
- selecting a design in one view selects it in every view and in the table (#selftest);
- no request leaves the file: the page's Content-Security-Policy is default-src 'none',
  host names resolve to nothing, and Chromium's net log shows no URL other than file:,
  data: or blob:;
- a screenshot is kept in the build directory (tests/browser/report.png).
Exits 77 (skipped) only when Chromium is not installed.

usage: test_report_browser.py TANDEM REP_FIXTURE OUT_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
]


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium, url, extra, tmp, timeout=90):
    profile = tempfile.mkdtemp(dir=tmp, prefix="profile-")
    cmd = [chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile] + extra + [url]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def html_attrs(dom):
    m = re.search(r"<html([^>]*)>", dom)
    if not m:
        raise AssertionError("no <html> element in the dumped DOM")
    return dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))


def page_requests(path):
    """URLs the page asked for (not file:, data:, blob:). Chromium's own background services
    (time, update, accounts) also show up in the net log; their requests carry the initiator
    'not an origin', while a page's carry the page's origin ('null' for file:)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        log = json.load(f)
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = set()
    for ev in log.get("events", []):
        params = ev.get("params") or {}
        if names.get(ev.get("type")) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if params.get("initiator") == "not an origin":
            continue
        if not params["url"].startswith(("file:", "data:", "blob:")):
            urls.add(params["url"])
    return urls


def check_page(chromium, url, tmp, name, want_selftest):
    netlog = os.path.join(tmp, name + "-netlog.json")
    dom, err = run_chromium(chromium, url, ["--virtual-time-budget=10000", "--dump-dom",
                                            "--log-net-log=" + netlog], tmp)
    attrs = html_attrs(dom)
    problems = []
    if attrs.get("data-errors") != "0":
        problems.append("page errors: data-errors=%r" % attrs.get("data-errors"))
    if "data-csp-violations" in attrs:
        problems.append("Content-Security-Policy violations (a fetch was attempted)")
    views = attrs.get("data-views")
    if not views or attrs.get("data-rendered") != views or int(views) < 2:
        problems.append("plots did not render: rendered=%r views=%r" %
                        (attrs.get("data-rendered"), views))
    elif attrs.get("data-canvases") != views:
        problems.append("%s views but %s canvases" % (views, attrs.get("data-canvases")))
    if want_selftest and attrs.get("data-selftest") != "ok":
        problems.append("shared selection failed: data-selftest=%r" % attrs.get("data-selftest"))
    # the fixture's designs carry layers, hw, breakdowns: 6 charts in a design section
    if want_selftest and int(attrs.get("data-design-canvases") or 0) < 6:
        problems.append("design section charts did not render: %r canvases" %
                        attrs.get("data-design-canvases"))
    console = [l for l in err.splitlines() if "CONSOLE" in l and
               re.search(r"error|uncaught|refused", l, re.I)]
    if console:
        problems.append("console errors: " + " | ".join(console[:5]))
    outside = sorted(page_requests(netlog))
    if outside:
        problems.append("requests left the file: " + ", ".join(outside[:5]))
    print("%s: views=%s canvases=%s points=%s render_ms=%s selftest=%s design_canvases=%s "
          "urls_outside=%d" % (name, views, attrs.get("data-canvases"), attrs.get("data-points"),
                               attrs.get("data-render-ms"), attrs.get("data-selftest"),
                               attrs.get("data-design-canvases"), len(outside)))
    return problems


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    tandem, fixture, out_dir = sys.argv[1:4]
    chromium = find_chromium()
    if not chromium:
        print("SKIP: chromium is not installed (apt-get install chromium)")
        return 77
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="td_test_browser_")
    try:
        run_a, run_b = os.path.join(tmp, "runA"), os.path.join(tmp, "runB")
        subprocess.run([fixture, run_a, "200", "--population", "20"], check=True)
        subprocess.run([fixture, run_b, "150", "--population", "15", "--seed", "3",
                        "--no-front", "--running"], check=True)
        subprocess.run([tandem, "report", run_a, "-q"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([tandem, "report", "--compare", run_a, run_b, "-q"], check=True,
                       stdout=subprocess.DEVNULL)
        single = os.path.join(run_a, "report", "index.html")
        both = os.path.join(run_a, "report", "vs-runB", "index.html")
        # The detector itself: a page without the policy that fetches must be caught.
        leaky = os.path.join(tmp, "leaky.html")
        with open(leaky, "w") as f:
            f.write('<!doctype html><img src="https://example.org/a.png"><script>'
                    'fetch("https://example.com/x").catch(function(){});</script>')
        control = os.path.join(tmp, "control-netlog.json")
        run_chromium(chromium, "file://" + leaky, ["--virtual-time-budget=3000", "--dump-dom",
                                                    "--log-net-log=" + control], tmp)
        caught = page_requests(control)
        print("control: a leaky page's requests are detected: %s" % sorted(caught))
        problems = [] if len(caught) == 2 else ["the net-log check missed a leaky page's requests"]
        problems += check_page(chromium, "file://" + single + "#selftest", tmp, "single", True)
        problems += check_page(chromium, "file://" + both + "#selftest", tmp, "compare", True)
        shot = os.path.join(out_dir, "report.png")
        if os.path.exists(shot):
            os.remove(shot)
        run_chromium(chromium, "file://" + single, ["--virtual-time-budget=10000",
                                                     "--window-size=1400,3200",
                                                     "--screenshot=" + shot], tmp)
        with open(shot, "rb") if os.path.exists(shot) else open(os.devnull, "rb") as f:
            head = f.read(8)
        if head != b"\x89PNG\r\n\x1a\n" or os.path.getsize(shot) < 20000:
            problems.append("no screenshot at " + shot)
        else:
            print("screenshot: " + shot)
        shutil.copy(single, os.path.join(out_dir, "report-sample.html"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
