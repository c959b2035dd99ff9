"""What the compliance formats cost a 200-host audit: each file's size, and the report step's time with the four
formats of before and with all seven, side by side, interleaved, median of --rounds. A benchmark, not a test: it
prints figures."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fleet import fleet_results

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import FORMATS
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import prepare

BEFORE = ["json", "junit", "md", "html"]


def report_step(results: list, dest: Path, formats: list) -> tuple:
    """Seconds the report step takes (reports built and written), and the bytes of each file."""
    started = time.monotonic()
    _result, contents = prepare(results, str(dest), formats, "mailsec.sendmail", "2026-12-01T08:00:00Z", "bench")
    dest.mkdir(parents=True, exist_ok=True)
    for path, data in contents.items():
        Path(path).write_bytes(data)
    return time.monotonic() - started, {Path(path).name: len(data) for path, data in contents.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = fleet_results(args.hosts)
    times = {"before": [], "all": []}
    with tempfile.TemporaryDirectory() as work:
        for number in range(args.rounds):
            for name, formats in (("before", BEFORE), ("all", list(FORMATS))):
                seconds, sizes = report_step(results, Path(work) / f"{name}-{number}", formats)
                times[name].append(seconds)
    print(f"{args.hosts} hosts, median of {args.rounds} rounds, interleaved")
    for name in FORMATS.values():
        print(f"  {name:32s} {sizes[name] / 1024:9.1f} KiB")
    before, after = statistics.median(times["before"]), statistics.median(times["all"])
    print(f"  report step, 4 formats: {before:.2f} s; 7 formats: {after:.2f} s; extra {after - before:.2f} s ({after / before:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
