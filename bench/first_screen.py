"""How many bytes the first screen of miniapp transfers, besides video.

How: in a fresh temporary folder (never the developer's database or media) the script migrates,
runs `collectstatic` (DEBUG=0, so WhiteNoise's CompressedManifestStaticFilesStorage writes hashed,
pre-compressed files) and `seed_demo`, then serves the app with Daphne on 127.0.0.1 as production
would serve static files. Debian Chromium (headless, driven by Playwright, iPhone 13 profile,
signed out) loads `/` and waits a few seconds; every response is recorded with its type, its
Content-Encoding, the encoded body bytes on the wire and the decoded bytes.

The app does not compress its own HTML (a proxy in front would), so for a text response that comes
uncompressed (the page, Django's JavaScript catalog) the script also computes its gzip size at
level 6, nginx's default, and counts that. The goal: HTML + CSS + JS under 60 KB compressed.
Images and video are totalled separately.

    .venv/bin/python bench/first_screen.py [--wait 3] [--json PATH]
"""

import argparse
import gzip
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, daphne, free_port, json_argument, manage, table, temp_dir, time_limit, write_results  # noqa: E402

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
GOAL_BYTES = 60 * 1024
TOTALS_HEADERS = ["figure", "bytes", "KB"]
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


def load_first_screen(url: str, wait_seconds: float) -> tuple[list[dict], str]:
    """Load `/` like a phone would and record every request the page made."""
    from playwright.sync_api import sync_playwright

    seen, done = [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            context = browser.new_context(**playwright.devices["iPhone 13"], locale="zh-CN")
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.on("request", lambda request: seen.append(request))
            page.on("requestfinished", lambda request: done.setdefault(request, "finished"))
            page.on("requestfailed", lambda request: done.setdefault(request, "failed"))
            page.goto(url + "/", wait_until="load")
            page.wait_for_timeout(wait_seconds * 1000)
            accept_encoding = seen[0].all_headers().get("accept-encoding", "") if seen else ""
            rows = [record(request, done.get(request, "in flight"), url) for request in seen]
        finally:
            browser.close()
    return rows, accept_encoding


def counted(row: dict) -> int:
    """The bytes a row counts for: its gzip-6 size when it came uncompressed text, else its wire body."""
    return row["gzip6"] if row["gzip6"] is not None else row["wire_body"] or 0


def summarize(rows: list[dict]) -> dict:
    text = [r for r in rows if r["type"] in TEXT_KINDS]
    static = [r for r in rows if r["url"].startswith("/static/") and r["type"] in ("stylesheet", "script")]
    return {
        "html_css_js_counted": sum(counted(r) for r in text),
        "html_css_js_decoded": sum(r["decoded"] or 0 for r in text),
        "images_wire": sum(r["wire_body"] or 0 for r in rows if r["type"] == "image"),
        "media_wire": sum(r["wire_body"] or 0 for r in rows if r["type"] == "media"),
        "other_wire": sum(r["wire_body"] or 0 for r in rows if r["type"] == "other"),
        "response_headers": sum(r["headers"] or 0 for r in rows),
        "static_compressed": bool(static) and all(r["encoding"] in ("gzip", "br", "zstd") for r in static),
        "static_uncompressed": [r["url"] for r in static if r["encoding"] not in ("gzip", "br", "zstd")],
        "requests": len(rows),
        "not_finished": [r["url"] for r in rows if r["state"] != "finished"],
    }


def report(rows: list[dict], summary: dict, accept_encoding: str) -> list[list]:
    """Print every response and the totals; return the totals' rows."""

    def size(value):
        return "-" if value is None else value

    lines = [
        [r["type"], r["url"][:70], size(r["status"]), r["encoding"] or "none", size(r["wire_body"]),
         size(r["decoded"]), size(r["gzip6"]), counted(r), r["state"]]
        for r in sorted(rows, key=lambda r: (list(KINDS).index(r["type"]) if r["type"] in KINDS else 9))
    ]  # fmt: skip
    print("\nFirst screen of / (iPhone 13, signed out), every response; sizes in bytes")
    print(table(["type", "url", "status", "encoding", "wire body", "decoded", "gzip-6", "counted", "state"], lines))
    goal = "OK" if summary["html_css_js_counted"] <= GOAL_BYTES else "OVER"
    figures = [
        (f"HTML+CSS+JS compressed (goal < {GOAL_BYTES // 1024} KB: {goal})", "html_css_js_counted"),
        ("HTML+CSS+JS decoded", "html_css_js_decoded"),
        ("images (on the wire)", "images_wire"),
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
    if summary["not_finished"]:
        print(f"Not finished within the wait (failed or still loading): {summary['not_finished']}")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=3.0, help="seconds to wait after the page's load event")
    json_argument(parser)
    args = parser.parse_args()
    time_limit(170)
    started = time.monotonic()
    with temp_dir() as tmp:
        port = free_port()
        env = app_env(tmp, site_url=f"http://127.0.0.1:{port}")
        env["ALLOWED_HOSTS"] = "127.0.0.1"
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input")
        manage(env, "seed_demo")
        print(f"Set up in {time.monotonic() - started:.1f} s (temporary folder {tmp})")
        with daphne(env, port, tmp / "daphne.log") as url:
            rows, accept_encoding = load_first_screen(url, args.wait)
    summary = summarize(rows)
    totals = report(rows, summary, accept_encoding)
    print(f"\nTotal run time {time.monotonic() - started:.1f} s")
    write_results(
        args.json,
        {"accept_encoding": accept_encoding, "summary": summary, "responses": rows},
        tables={"First screen of / (iPhone 13, signed out), besides video": (TOTALS_HEADERS, totals)},
    )


if __name__ == "__main__":
    main()
