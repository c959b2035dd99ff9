"""Prints the demo's summary: how each host runs sendmail (from the facts mailsec.sendmail.info
saved), what the audit found before hardening and what it finds after (from the reports)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def info_row(name: str, facts: dict) -> list[str]:
    if not facts.get("installed"):
        return [name, "-", "-", "-", "-", "not installed: " + str(facts.get("reason", ""))]
    kernel = facts["kernel"]
    probe = (f"setreuid {'ok' if kernel['setreuid_ok'] else 'FAILS'}, seteuid {'ok' if kernel['seteuid_ok'] else 'FAILS'}"
             if kernel.get("probed") else f"not run ({kernel.get('reason')})")
    run_as = (facts["settings"].get("mta") or {}).get("RunAsUser") or "unset (root)"
    setuid = [f["path"] for f in facts.get("setid_files", []) if f.get("setuid")]
    return [name, facts["version"], facts["drop_method"], probe, run_as, ", ".join(setuid) or "none"]


def audit_row(host: dict) -> list[str]:
    if not host["reachable"]:
        return [host["host"], "NOT AUDITED", "-", "-", host.get("msg", "")]
    counts = host["counts"]
    failing = sorted(f["id"] for f in host["findings"] if f["status"] in ("fail", "error"))
    return [host["host"], "DRIFT" if host["drift"] else "compliant", str(counts["pass"]),
            str(counts["fail"] + counts["error"]), ", ".join(failing) or "-"]


def main(folder: str) -> int:
    base = Path(folder)
    facts = sorted((base / "info").glob("*.json"))
    print("\nHow sendmail runs (mailsec.sendmail.info):\n")
    _table([["HOST", "SENDMAIL", "DROP METHOD", "KERNEL PROBE", "MTA RunAsUser", "SET-USER-ID FILES"]]
           + [info_row(p.stem, json.loads(p.read_text())) for p in facts])
    reports = []
    for folder_name, title in (("audit", "Audit against the baseline (mailsec.sendmail.audit)"),
                               ("audit-after", "Audit after mailsec.sendmail.harden")):
        report_file = base / folder_name / "report.json"
        if not report_file.is_file():
            continue
        report = json.loads(report_file.read_text())
        reports.append(report)
        print(f"\n{title}:\n")
        _table([["HOST", "VERDICT", "PASS", "FAIL", "FAILING CONTROLS"]] + [audit_row(h) for h in report["hosts"]])
        print(f"\nReports: {report_file.parent}/report.html (also report.md, report.json, junit.xml, "
              "xccdf-results.xml, arf.xml, oscal-assessment-results.json)")
    print("Each control is explained in docs/controls.md.")
    return 0 if facts and reports and all(r["hosts"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
