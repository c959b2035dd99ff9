"""The matrix's closing table: one row per release, each step's result and seconds, then the
set-up and the total; a release without results, or any step not ok, makes the matrix fail."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

STEPS = ("venv", "build", "install", "doc", "sanity", "units", "audit", "harden")


def render(rows: Sequence[tuple[Any, list[dict]]], setup: Sequence[tuple[str, float]], total: float) -> tuple[str, bool]:
    """rows: (core with .version and .place, its results from core_steps.py)."""
    table = [("ansible-core", "where", "python", *STEPS, "seconds")]
    ok = True
    notes = []
    scopes: dict[str, list[str]] = {}  # what sanity and units covered, and for which releases
    for core, results in rows:
        by_step = {r["step"]: r for r in results}
        scope = "; ".join(f"{step} {by_step[step]['note']}" for step in ("sanity", "units") if by_step.get(step, {}).get("status") == "ok")
        if scope:
            scopes.setdefault(scope, []).append(core.version)
        cells = []
        for step in STEPS:
            r = by_step.get(step)
            cells.append("-" if r is None else f"{'ok' if r['status'] == 'ok' else r['status'].upper()} {r['seconds']:.0f}s")
            if r is not None and r["status"] != "ok":
                notes.append(f"{core.version} {step}: {r['note']} ({r['log']})")
        if not results:
            notes.append(f"{core.version}: no results (see its output above)")
        ok = ok and bool(results) and all(r["status"] == "ok" for r in results)
        python = results[0]["python"] if results else "?"
        table.append((core.version, core.place, python, *cells, f"{sum(r['seconds'] for r in results):.0f}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["", "ansible-core matrix"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines += [f"{', '.join(versions)}: {what}" for what, versions in scopes.items()]
    lines.append("set-up: " + (", ".join(f"{what} {seconds:.0f}s" for what, seconds in setup) or "none"))
    ok = ok and not any(step[0].endswith("FAILED") for step in setup)
    lines += notes
    lines.append(f"matrix: {'all passed' if ok else 'FAILED'} in {total:.0f}s")
    return "\n".join(lines), ok
