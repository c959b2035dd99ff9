"""Prints the demo's per-host summary from the facts that mailsec.sendmail.info saved."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def row(name: str, facts: dict) -> list[str]:
    if not facts.get("installed"):
        return [name, "-", "-", "-", "-", "not installed: " + str(facts.get("reason", ""))]
    kernel = facts["kernel"]
    probe = (f"setreuid {'ok' if kernel['setreuid_ok'] else 'FAILS'}, seteuid {'ok' if kernel['seteuid_ok'] else 'FAILS'}"
             if kernel.get("probed") else f"not run ({kernel.get('reason')})")
    run_as = (facts["settings"].get("mta") or {}).get("RunAsUser") or "unset (root)"
    setuid = [f["path"] for f in facts.get("setid_files", []) if f.get("setuid")]
    return [name, facts["version"], f"{facts['drop_method']}", probe, run_as, ", ".join(setuid) or "none"]


def main(folder: str) -> int:
    header = ["HOST", "SENDMAIL", "DROP METHOD", "KERNEL PROBE", "MTA RunAsUser", "SET-USER-ID FILES"]
    rows = [header] + [row(p.stem, json.loads(p.read_text())) for p in sorted(Path(folder).glob("*.json"))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print()
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0 if len(rows) > 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
