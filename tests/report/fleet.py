"""A fleet's audit report made of real findings: the unit fixtures' hosts, repeated with varied drift,
for the report's page tests and benchmark. Needs the collection importable (PYTHONPATH holding
ansible_collections, as build/installed after `make build`)."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import build_report, render

FIXTURE = Path(__file__).resolve().parents[1] / "unit/plugins/module_utils/fixtures/report/results.json"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def fleet_results(hosts: int, seed: int = 7) -> list:
    """``hosts`` host results: copies of the fixture's audited hosts, some controls flipped, one in fifty down."""
    pool = [entry for entry in json.loads(FIXTURE.read_text()) if entry.get("reachable", True)]
    rng = random.Random(seed)
    results = []
    for number in range(hosts):
        if number % 50 == 49:
            results.append({"host": f"mx{number:03d}.example.org", "reachable": False, "msg": "Failed to connect to the host via ssh"})
            continue
        entry = json.loads(json.dumps(pool[number % len(pool)]))
        for item in entry["findings"]:
            if item["status"] in ("pass", "fail") and rng.random() < 0.15:
                item["status"] = "fail" if item["status"] == "pass" else "pass"
        results.append(dict(entry, host=f"mx{number:03d}.example.org"))
    return results


def fleet_page(hosts: int, directory: Path) -> Path:
    """report.html of a fleet of ``hosts``, written in ``directory``."""
    report = build_report(fleet_results(hosts), "2026-12-01T08:00:00Z", "bench", "mailsec.sendmail")
    path = directory / "report.html"
    path.write_text(render(report, ["html"])["report.html"], encoding="utf-8")
    return path


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Headless Chromium with a fresh profile and nothing that reaches a network."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise RuntimeError("chromium is not installed (make test installs Debian's chromium)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=timeout, check=True, stdin=subprocess.DEVNULL)
