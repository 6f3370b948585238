"""How many bytes the first screen of miniapp transfers, besides video, and how soon it shows.

How: in a fresh temporary folder (never the developer's database or media) the script migrates,
runs `collectstatic` (DEBUG=0, so WhiteNoise's CompressedManifestStaticFilesStorage writes hashed,
pre-compressed files) and `seed_demo`, then serves the app with Daphne on 127.0.0.1 as production
would serve static files. The translation catalogs are compiled first, as `make run` does (without
them the page and its JavaScript catalog fall back to English). The server answers one `/` before
the browser comes, as a running server has (its first request after a start loads templates and
code: 0.1 s alone, up to 0.8 s beside a starting browser). Debian Chromium (headless, driven by
Playwright, iPhone 13 profile, signed out, a fresh context: cold cache) loads `/` with the CPU
slowed 4x (CDP `Emulation.setCPUThrottlingRate`) and waits a few seconds, touching nothing;
every response is recorded with its type, its Content-Type and Content-Encoding, the encoded
body bytes on the wire and the decoded bytes. A text response that comes uncompressed is counted at its gzip size at
level 6 (nginx's default), as a proxy in front would send it.

The goals (issue 19), each printed with OK or MISSED:
- at most 60 KB of bodies transferred besides video (HTML, CSS, JS, images, the rest);
- the first slide's poster preloaded (`<link rel="preload" as="image">` in the head) or named within
  the HTML's first 14 KB on the wire (gzip-6 of what comes before it), one initial round trip;
- only that poster fetched with the first screen: the later slides' come when the viewer moves;
- posters in a modern format (WebP or AVIF), which every browser the app serves decodes;
- Largest Contentful Paint (PerformanceObserver 'largest-contentful-paint', buffered, read in the
  page) under 1 s on loopback at 4x CPU throttling, the median of --runs loads, each cold.

    .venv/bin/python bench/first_screen.py [--wait 3] [--runs 5] [--json PATH]
"""

import argparse
import gzip
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    ROOT,
    app_env,
    daphne,
    free_port,
    json_argument,
    manage,
    table,
    temp_dir,
    time_limit,
    write_results,
)
from miniapp.lib.catalogs import catalogs_compile  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GOAL_BYTES = 60 * 1024  # bodies besides video
GOAL_LCP_MS = 1000
FIRST_ROUND_TRIP = 14 * 1024  # ten TCP segments: what a server sends before the first ACK comes back
CPU_THROTTLING = 4
MODERN_IMAGES = ("image/webp", "image/avif")
TOTALS_HEADERS = ["figure", "bytes", "KB"]
GOALS_HEADERS = ["goal", "measured", "met"]
POSTER = re.compile(r"/poster\.[a-z]+$")
# Every LCP candidate the page reports, from its very start (an init script runs before the page's own).
LCP_OBSERVER = """
window.__lcp = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const element = entry.element;
    const name = element ? element.tagName.toLowerCase() : "";
    const kind = element && element.className ? "." + element.className.split(" ")[0] : "";
    window.__lcp.push({
      start: entry.startTime, render: entry.renderTime, load: entry.loadTime, size: entry.size, url: entry.url,
      element: name + kind,
    });
  }
}).observe({ type: "largest-contentful-paint", buffered: true });
"""
TEXT_KINDS = ("document", "stylesheet", "script")
KINDS = {"document": "document", "stylesheet": "stylesheet", "script": "script", "image": "image", "media": "media"}


def record(request, state: str, origin: str) -> dict:
    """One request: what it was, how it came and how big it was (encoded on the wire and decoded)."""
    row = {
        "url": request.url.removeprefix(origin),
        "type": KINDS.get(request.resource_type, "other"),
        "state": state,
        "status": None,
        "encoding": "",
        "wire_body": None,
        "headers": None,
        "decoded": None,
        "gzip6": None,
    }
    if state != "finished":
        return row
    response = request.response()
    sizes = request.sizes()
    row.update(status=response.status, wire_body=sizes["responseBodySize"], headers=sizes["responseHeadersSize"])
    row["encoding"] = response.header_value("content-encoding") or ""
    row["content_type"] = (response.header_value("content-type") or "").split(";")[0].strip()
    row["cache_control"] = response.header_value("cache-control") or ""
    try:
        body = response.body()
        row["decoded"] = len(body)
    except Exception:  # media answered in ranges: Chromium keeps no body to hand back
        body = None
        row["decoded"] = row["wire_body"] if not row["encoding"] else None
    if body is not None and not row["encoding"] and row["type"] in TEXT_KINDS:
        row["gzip6"] = len(gzip.compress(body, compresslevel=6))
    return row


def load_first_screen(url: str, wait_seconds: float, runs: int) -> dict:
    """Load `/` like a phone would, `runs` times, each in a fresh context (a cold cache) with the CPU
    throttled: every request of the first load, the page's HTML, its first slide's poster and each
    load's Largest Contentful Paint."""
    from playwright.sync_api import sync_playwright

    loads = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            for _ in range(runs):
                context = browser.new_context(**playwright.devices["iPhone 13"], locale="zh-CN")
                try:
                    loads.append(load_once(context, url, wait_seconds))
                finally:
                    context.close()
        finally:
            browser.close()
    first = loads[0]
    first["lcp_runs"] = [load["lcp"] for load in loads]
    return first


def load_once(context, url: str, wait_seconds: float) -> dict:
    seen, done = [], {}
    context.set_default_timeout(20_000)
    context.add_init_script(LCP_OBSERVER)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_THROTTLING})
    page.on("request", lambda request: seen.append(request))
    page.on("requestfinished", lambda request: done.setdefault(request, "finished"))
    page.on("requestfailed", lambda request: done.setdefault(request, "failed"))
    response = page.goto(url + "/", wait_until="load")
    html = response.text()
    page.wait_for_timeout(wait_seconds * 1000)
    lcp = page.evaluate("window.__lcp")
    first_poster = page.evaluate(
        "() => { const video = document.querySelector('.feed .slide video'); return video && video.dataset.poster }"
    )
    accept_encoding = seen[0].all_headers().get("accept-encoding", "") if seen else ""
    rows = [record(request, done.get(request, "in flight"), url) for request in seen]
    return {
        "rows": rows,
        "accept_encoding": accept_encoding,
        "html": html,
        "first_poster": (first_poster or "").removeprefix(url),
        "lcp": lcp[-1] if lcp else None,  # the last candidate is the page's LCP
    }


def attributes(tag: str) -> dict[str, str]:
    return {name.lower(): value for name, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def poster_preload(html: str, poster: str) -> dict:
    """Where the HTML names the first slide's poster: a preload link in the head (with its
    fetchpriority), and how far into the HTML on the wire (gzip-6 of everything before it)."""
    head = html[: html.find("</head>")] if "</head>" in html else ""
    preload = None
    for match in re.finditer(r"<link\b[^>]*>", head):
        found = attributes(match[0])
        if found.get("rel") == "preload" and found.get("as") == "image" and found.get("href", "").endswith(poster):
            preload = {"offset": match.start(), "fetchpriority": found.get("fetchpriority", "")}
            break
    named = html.find(poster) if poster else -1
    offset = preload["offset"] if preload else named
    before = len(gzip.compress(html[:offset].encode(), compresslevel=6)) if offset >= 0 else None
    return {
        "poster": poster,
        "preloaded": preload is not None,
        "fetchpriority": preload["fetchpriority"] if preload else "",
        "named_at": offset if offset >= 0 else None,
        "gzip_bytes_before": before,
        "in_first_round_trip": before is not None and before <= FIRST_ROUND_TRIP,
    }


def counted(row: dict) -> int:
    """The bytes a row counts for: its gzip-6 size when it came uncompressed text, else its wire body."""
    return row["gzip6"] if row["gzip6"] is not None else row["wire_body"] or 0


def summarize(rows: list[dict]) -> dict:
    text = [r for r in rows if r["type"] in TEXT_KINDS]
    static = [r for r in rows if r["url"].startswith("/static/") and r["type"] in ("stylesheet", "script")]
    images = [r for r in rows if r["type"] == "image" and r["state"] == "finished"]
    return {
        "besides_video": sum(counted(r) for r in rows if r["type"] != "media"),
        "html_css_js_counted": sum(counted(r) for r in text),
        "html_css_js_decoded": sum(r["decoded"] or 0 for r in text),
        "images_wire": sum(r["wire_body"] or 0 for r in images),
        "posters_wire": sum(r["wire_body"] or 0 for r in images if POSTER.search(r["url"])),
        "media_wire": sum(r["wire_body"] or 0 for r in rows if r["type"] == "media"),
        "other_wire": sum(r["wire_body"] or 0 for r in rows if r["type"] == "other"),
        "response_headers": sum(r["headers"] or 0 for r in rows),
        "static_compressed": bool(static) and all(r["encoding"] in ("gzip", "br", "zstd") for r in static),
        "static_uncompressed": [r["url"] for r in static if r["encoding"] not in ("gzip", "br", "zstd")],
        "posters_fetched": [r["url"] for r in rows if r["type"] == "image" and POSTER.search(r["url"])],
        "image_types": sorted({r.get("content_type", "") for r in images}),
        "poster_types": sorted({r.get("content_type", "") for r in images if POSTER.search(r["url"])}),
        "requests": len(rows),
        "not_finished": [r["url"] for r in rows if r["state"] != "finished"],
    }


def lcp_summary(runs: list[dict | None]) -> dict:
    times = [run["start"] for run in runs if run]
    last = next((run for run in reversed(runs) if run), None) or {}
    return {
        "median_ms": round(statistics.median(times)) if times else None,
        "runs_ms": [round(t) for t in times],
        "element": last.get("element", ""),
        "url": last.get("url", ""),
    }


def goals(summary: dict, preload: dict, lcp: dict) -> list[list]:
    """The issue's goals, each with what was measured and OK or MISSED."""

    def met(ok: bool) -> str:
        return "OK" if ok else "MISSED"

    total = summary["besides_video"]
    fetched = summary["posters_fetched"]
    priority = f" fetchpriority={preload['fetchpriority']}" if preload["fetchpriority"] else ""
    where = f"<link rel=preload as=image{priority}> " if preload["preloaded"] else "named "
    where += (
        f"after {preload['gzip_bytes_before']:,} B of gzipped HTML"
        if preload["named_at"] is not None
        else "nowhere in the HTML"
    )
    types = ", ".join(t.removeprefix("image/") for t in summary["poster_types"]) or "none"
    median = lcp["median_ms"]
    return [
        [f"<= {GOAL_BYTES // 1024} KB of bodies besides video", f"{total / 1024:.1f} KB", met(total <= GOAL_BYTES)],
        ["first poster preloaded or in the first 14 KB of HTML", where,
         met(preload["preloaded"] or preload["in_first_round_trip"])],
        ["only the first poster fetched (the later ones lazy)",
         f"{len(fetched)} fetched" + (", the first among them" if preload["poster"] in fetched else ", not the first"),
         met(fetched == [preload["poster"]])],
        ["posters in a modern format (WebP, AVIF)", types,
         met(bool(summary["poster_types"]) and all(t in MODERN_IMAGES for t in summary["poster_types"]))],
        [f"LCP < {GOAL_LCP_MS} ms, {CPU_THROTTLING}x CPU, cold (median)",
         f"{median} ms ({', '.join(map(str, lcp['runs_ms']))}; {lcp['element'] or '?'})" if median is not None
         else "no LCP reported", met(median is not None and median < GOAL_LCP_MS)],
    ]  # fmt: skip


def report(rows: list[dict], summary: dict, accept_encoding: str) -> list[list]:
    """Print every response and the totals; return the totals' rows."""

    def size(value):
        return "-" if value is None else value

    lines = [
        [r["type"], r["url"][:70], size(r["status"]), r.get("content_type", ""), r["encoding"] or "none",
         size(r["wire_body"]), size(r["decoded"]), size(r["gzip6"]), counted(r), r["state"]]
        for r in sorted(rows, key=lambda r: (list(KINDS).index(r["type"]) if r["type"] in KINDS else 9))
    ]  # fmt: skip
    print(f"\nFirst screen of / (iPhone 13, signed out, {CPU_THROTTLING}x CPU), every response; sizes in bytes")
    headers = ["type", "url", "status", "content type", "encoding", "wire body", "decoded", "gzip-6", "counted",
               "state"]  # fmt: skip
    print(table(headers, lines))
    figures = [
        ("all bodies besides video (compressed)", "besides_video"),
        ("HTML+CSS+JS compressed", "html_css_js_counted"),
        ("HTML+CSS+JS decoded", "html_css_js_decoded"),
        ("images (on the wire)", "images_wire"),
        ("of which posters", "posters_wire"),
        ("video (on the wire)", "media_wire"),
        ("other (on the wire)", "other_wire"),
        ("response headers, all requests", "response_headers"),
    ]
    totals = [[name, summary[key], round(summary[key] / 1024, 1)] for name, key in figures]
    print()
    print(table(TOTALS_HEADERS, totals))
    print(f"\nChromium sent Accept-Encoding: {accept_encoding!r}")
    if summary["static_compressed"]:
        print("Static CSS/JS from WhiteNoise came compressed (Content-Encoding on every one).")
    else:
        print(f"NOT COMPRESSED static CSS/JS: {summary['static_uncompressed'] or 'no static CSS/JS seen'}")
    print(f"Posters fetched: {summary['posters_fetched']}")
    if summary["not_finished"]:
        print(f"Not finished within the wait (failed or still loading): {summary['not_finished']}")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=3.0, help="seconds to wait after the page's load event")
    parser.add_argument("--runs", type=int, default=5, help="cold loads for the LCP median (bytes: the first)")
    json_argument(parser)
    args = parser.parse_args()
    time_limit(240)
    started = time.monotonic()
    catalogs_compile(locale_dirs=[ROOT / "locale"])
    with temp_dir() as tmp:
        port = free_port()
        env = app_env(tmp, site_url=f"http://127.0.0.1:{port}")
        env["ALLOWED_HOSTS"] = "127.0.0.1"
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input")
        manage(env, "seed_demo")
        print(f"Set up in {time.monotonic() - started:.1f} s (temporary folder {tmp})")
        with daphne(env, port, tmp / "daphne.log") as url:
            urllib.request.urlopen(url + "/", timeout=30).read()  # noqa: S310  (our own server)
            loaded = load_first_screen(url, args.wait, max(1, args.runs))
    rows = loaded["rows"]
    summary = summarize(rows)
    preload = poster_preload(loaded["html"], loaded["first_poster"])
    lcp = lcp_summary(loaded["lcp_runs"])
    totals = report(rows, summary, loaded["accept_encoding"])
    goal_rows = goals(summary, preload, lcp)
    print(f"\nThe first screen's goals (issue 19); LCP of {len(lcp['runs_ms'])} cold loads, element of the last")
    print(table(GOALS_HEADERS, goal_rows))
    print(f"\nTotal run time {time.monotonic() - started:.1f} s")
    write_results(
        args.json,
        {
            "accept_encoding": loaded["accept_encoding"],
            "summary": summary,
            "first_poster": preload,
            "lcp": {**lcp, "entries": loaded["lcp_runs"]},
            "cpu_throttling": CPU_THROTTLING,
            "responses": rows,
        },
        tables={
            "First screen of / (iPhone 13, signed out), besides video": (TOTALS_HEADERS, totals),
            "The first screen's goals (issue 19)": (GOALS_HEADERS, goal_rows),
        },
    )


if __name__ == "__main__":
    main()
