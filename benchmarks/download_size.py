"""Measure what a pip install would download, without installing anything.

Runs ``pip install --dry-run --ignore-installed --report`` with this machine's pip
configuration switched off (``--isolated``, ``PIP_CONFIG_FILE=/dev/null``), so the packages are
resolved against the public index (or the index given in the arguments) as on a fresh machine,
then asks each file's server for its size (an HTTP ``HEAD``; a local file is measured on
disk). The resolution is for the interpreter that runs this script (its Python version and
platform). Build dependencies of a local project (setuptools for ``-e .``) are not counted.

    python benchmarks/download_size.py torch==2.13.0
    python benchmarks/download_size.py torch==2.13.0 -e ".[dev]"
    python benchmarks/download_size.py --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

Everything after the script name is handed to ``pip install``, except a leading
``--out FILE.json``, where the files and the total are also written (the README's sizes come
from ``benchmarks/results/download_size_*.json``). Prints one line per file, largest first, and
the total in MB (10**6 bytes) and GiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path


def file_size(url: str) -> int:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return os.path.getsize(urllib.request.url2pathname(parsed.path))
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.headers["Content-Length"])


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    out = None
    if argv[0] == "--out":
        out, argv = Path(argv[1]), argv[2:]
    pip_args = list(argv)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed",
               "--quiet", "--report", str(report), *argv]
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
        print("$ PIP_CONFIG_FILE=/dev/null python " + " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True, env=env)
        items = json.loads(report.read_text())["install"]
    rows = []
    for item in items:
        info = item["download_info"]
        if "dir_info" in info:  # the local project itself (-e .): nothing to download
            continue
        rows.append((file_size(info["url"]), item["metadata"]["name"], item["metadata"]["version"],
                     info["url"].rsplit("/", 1)[-1]))
    rows.sort(reverse=True)
    for size, name, version, filename in rows:
        print(f"{size / 1e6:10.1f} MB  {name} {version}  ({urllib.parse.unquote(filename)})")
    total = sum(r[0] for r in rows)
    print(f"total: {len(rows)} files, {total:,} bytes = {total / 1e6:,.0f} MB = {total / 2**30:.2f} GiB")
    if out is not None:
        import datetime
        import platform

        payload = {
            "command": "python benchmarks/download_size.py " + " ".join(pip_args),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "platform": platform.platform(),
            "files": [{"bytes": size, "name": name, "version": version, "file": urllib.parse.unquote(filename)}
                      for size, name, version, filename in rows],
            "total_files": len(rows), "total_bytes": total,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
