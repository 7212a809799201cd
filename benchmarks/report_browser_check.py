"""Open a tabgan HTML report in headless Chromium and check that it renders.

Checks: the page loads with no console errors or uncaught exceptions; every expected section is
present; every image decodes and is not blank (pixel standard deviation of each image, drawn to a
canvas, and of the screenshot) and is shown at (nearly) its natural size, which its fonts are
sized for.  Saves a screenshot (``docs/report_screenshot.png`` by default).

Needs Chromium from the distribution (``apt-get install -y chromium``); not part of CI.  Talks to
the browser over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so no extra Python
package is needed.  Usage::

    python benchmarks/report_browser_check.py /tmp/tabgan_report_adult.html
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["summary", "column-shapes", "distributions", "statistics", "pair-trends", "heatmaps", "hierarchy",
            "level-rules", "coverage", "support", "utility", "privacy", "dp-ledger", "model", "schema"]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]

PAGE_CHECK = """(() => {
  const out = {sections: [...document.querySelectorAll('section[id], h3[id]')].map(e => e.id), images: []};
  for (const img of document.images) {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    let std = 0;
    if (img.complete && img.naturalWidth > 0) {
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let s = 0, s2 = 0, n = 0;
      for (let i = 0; i < d.length; i += 16) { const v = (d[i] + d[i+1] + d[i+2]) / 3; s += v; s2 += v*v; n++; }
      std = Math.sqrt(Math.max(s2 / n - (s / n) ** 2, 0));
    }
    out.images.push({alt: img.alt, complete: img.complete, width: img.naturalWidth, shown: img.clientWidth,
                     std: std});
  }
  out.height = document.documentElement.scrollHeight;
  return JSON.stringify(out);
})()"""


class Browser:
    """Minimal DevTools-protocol client over Chromium's debugging pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str, user_data_dir: str) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # runs in the child: the pipe ends must sit on fds 3 and 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
                                     preexec_fn=wire, pass_fds=(3, 4, to_chrome_r, from_chrome_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60.0) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_event(self, method: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise TimeoutError(method)

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe: " + self.proc.stderr.read().decode()[-2000:])
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def screenshot_std(png: bytes) -> float:
    import matplotlib.image as mpimg

    pixels = mpimg.imread(io.BytesIO(png), format="png")
    return float(np.asarray(pixels)[..., :3].std())


def palette_png(png: bytes, colors: int) -> bytes:
    """The screenshot with at most ``colors`` colours (no dithering): a page of flat colours and
    text loses nothing visible and the file shrinks about threefold."""
    from PIL import Image  # Pillow comes with matplotlib

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, format="png", optimize=True)
    return out.getvalue()


def check(html_path: Path, screenshot: Path, binary: str, width: int = 1100, height: int = 1400,
          scale: float = 0.5, colors: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(binary, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            browser.send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=session)
            browser.wait_event("Page.loadEventFired")
            page = json.loads(browser.send("Runtime.evaluate", {"expression": PAGE_CHECK, "returnByValue": True},
                                           session=session)["result"]["value"])
            # The whole page (at half scale by default, so every section shows in one picture).
            clip = {"x": 0, "y": 0, "width": width, "height": page["height"], "scale": scale}
            shot = base64.b64decode(browser.send("Page.captureScreenshot", {
                "format": "png", "clip": clip, "captureBeyondViewport": True}, session=session)["data"])
        finally:
            browser.close()
    errors = []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(params["entry"].get("text", "error"))
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(shot if not colors else palette_png(shot, colors))
    blank = [img["alt"] for img in page["images"] if not img["complete"] or img["width"] == 0 or img["std"] < 2]
    # The figures' fonts are sized for their natural size; one shown much smaller is hard to read.
    shrunk = [img["alt"] for img in page["images"] if img["width"] and img["shown"] < 0.9 * img["width"]]
    return {"console_errors": errors, "missing_sections": [s for s in SECTIONS if s not in page["sections"]],
            "images": page["images"], "blank_images": blank, "shrunk_images": shrunk, "page_height": page["height"],
            "screenshot": str(screenshot), "screenshot_std": screenshot_std(shot)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="report written by FidelityReport.to_html")
    parser.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "report_screenshot.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--scale", type=float, default=0.5,
                        help="screenshot scale (default 0.5: the whole page in one small picture)")
    parser.add_argument("--colors", type=int, default=0,
                        help="save the screenshot with at most this many colours (e.g. 256; default: all)")
    args = parser.parse_args(argv)
    if not args.chromium:
        print("Chromium not found; install it with: apt-get install -y chromium", file=sys.stderr)
        return 2
    result = check(args.html, args.screenshot, args.chromium, scale=args.scale, colors=args.colors)
    for img in result["images"]:
        print(f"  image {img['alt']!r:36s} {img['width']:5d} px wide, shown at {img['shown']:5d} px, "
              f"pixel std {img['std']:.1f}")
    print(f"sections missing: {result['missing_sections'] or 'none'}; console errors: "
          f"{result['console_errors'] or 'none'}; blank images: {result['blank_images'] or 'none'}; "
          f"shrunk images: {result['shrunk_images'] or 'none'}; "
          f"screenshot pixel std {result['screenshot_std']:.3f} -> {result['screenshot']}")
    ok = not (result["console_errors"] or result["missing_sections"] or result["blank_images"]
              or result["shrunk_images"]) and result["screenshot_std"] > 0.01
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
