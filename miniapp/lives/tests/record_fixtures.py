"""Record the Chromium fixtures in fixtures/: the fake camera and microphone through MediaRecorder,
as the go-live page records them, each chunk's size kept in `<name>.chunks.json`.

    .venv/bin/python -m miniapp.lives.tests.record_fixtures

Small on purpose (320×240 at 150 kb/s, 4 s, a chunk every 250 ms): they are checked in. Chromium's
fake camera draws a moving test pattern and its microphone beeps.
"""

import base64
import json
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # as tests/fixtures/servers.py, without Django

RECORDINGS = {
    "chromium-vp8-opus.webm": "video/webm;codecs=vp8,opus",
    "chromium-h264-opus.webm": "video/webm;codecs=h264,opus",
}
SECONDS = 4
# getUserMedia needs a secure context; the page is served by Playwright itself at an https address.
PAGE = "https://record.invalid/"
RECORD = """async ([mimeType, seconds]) => {
  const stream = await navigator.mediaDevices.getUserMedia({video: {width: 320, height: 240}, audio: true});
  const recorder = new MediaRecorder(stream, {
    mimeType, videoBitsPerSecond: 150000, audioBitsPerSecond: 24000, videoKeyFrameIntervalDuration: 1000,
  });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(250);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const encoded = [];
  for (const chunk of chunks) {
    const bytes = new Uint8Array(await chunk.arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    encoded.push(btoa(text));
  }
  return encoded;
}"""


def main() -> None:
    args = ["--no-sandbox", "--headless", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        blank = "<!doctype html><title>record</title>"
        page.route(PAGE, lambda route: route.fulfill(body=blank, content_type="text/html"))
        page.goto(PAGE)
        for name, mime_type in RECORDINGS.items():
            chunks = [base64.b64decode(chunk) for chunk in page.evaluate(RECORD, [mime_type, SECONDS])]
            (FIXTURES / name).write_bytes(b"".join(chunks))
            (FIXTURES / f"{name}.chunks.json").write_text(json.dumps([len(chunk) for chunk in chunks]) + "\n")
            print(f"{name}: {len(chunks)} chunks, {sum(map(len, chunks))} bytes")
        browser.close()


if __name__ == "__main__":
    main()
