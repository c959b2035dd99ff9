"""What the matrix asks of the audit's report.json: before the hardening the host drifts (the lab's
legacy profile fails controls); after it, every control that failed passes and none fails, but those the
hardening leaves by hand there."""
from __future__ import annotations

import json
from pathlib import Path


# STARTTLS offered: a manual step on a host where no certificate and key are named (the lab's legacy has none).
LEFT_BY_HAND = {"SM-TLS-03"}


class ReportWrong(Exception):
    """The report says something the matrix does not accept."""


def _entry(report: Path, host: str) -> dict:
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as ex:
        raise ReportWrong(f"{report}: {ex}") from ex
    entry = next((h for h in data.get("hosts", []) if h.get("host") == host), None)
    if entry is None or not entry.get("reachable"):
        raise ReportWrong(f"{report}: {host} is missing or was not reached")
    return entry


def _ids(entry: dict, *statuses: str) -> list[str]:
    return sorted(f["id"] for f in entry["findings"] if f["status"] in statuses)


def check_audited(report: Path, host: str) -> str:
    entry = _entry(report, host)
    failing, errors = _ids(entry, "fail"), _ids(entry, "error")
    if not entry.get("drift") or not failing:
        raise ReportWrong(f"{report}: {host} should drift before the hardening, yet nothing fails")
    if errors:
        raise ReportWrong(f"{report}: controls in error on {host}: {', '.join(errors)}")
    return f"{len(failing)} fail"


def check_hardened(before: Path, after: Path, host: str) -> str:
    was_failing = set(_ids(_entry(before, host), "fail"))
    entry = _entry(after, host)
    by_hand = sorted(was_failing & LEFT_BY_HAND)
    left = [control for control in _ids(entry, "fail", "error") if control not in by_hand]
    not_fixed = sorted(was_failing - set(_ids(entry, "pass")) - LEFT_BY_HAND)
    if left or not_fixed or (entry.get("drift") and not by_hand):
        raise ReportWrong(f"{after}: after the hardening {host} still fails {', '.join(left or not_fixed) or 'drift'}")
    return f"{len(was_failing) - len(by_hand)} fixed, {len(by_hand)} left by hand"
