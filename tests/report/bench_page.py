"""The fleet page at 1 to 200 hosts: its size, and how long headless Chromium takes to open it, set
against the same browser opening an empty page (side by side, interleaved, median of --rounds). A
benchmark, not a test: it prints figures."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fleet import chromium, fleet_page


def opened(uri: str) -> float:
    started = time.monotonic()
    chromium("--dump-dom", uri)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,10,50,100,200")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        blank = Path(work) / "blank.html"
        blank.write_text("<!DOCTYPE html><title>blank</title>")
        print("hosts, page size, open time in headless Chromium beyond an empty page (median of %d)" % args.rounds)
        for hosts in [int(n) for n in args.hosts.split(",") if n]:
            folder = Path(work) / str(hosts)
            folder.mkdir()
            page = fleet_page(hosts, folder)
            extra = []
            for _round in range(args.rounds):
                base = opened(blank.as_uri())
                extra.append(opened(page.as_uri()) - base)
            print(f"  {hosts:4d} hosts: {page.stat().st_size / 1e6:5.2f} MB, {statistics.median(extra):5.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
