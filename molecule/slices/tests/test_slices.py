"""Three slices merged give the findings of one audit of the whole lab, each host once."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# The compliance formats read back as statuses, shared with the report tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "report"))
from compliance import assert_agree  # noqa: E402

BASE = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def report(name: str) -> dict:
    return json.loads((BASE / name / "report.json").read_text())


def test_merged_slices_have_the_findings_of_one_full_audit():
    merged, full = report("merged"), report("full")
    assert [host["host"] for host in merged["hosts"]] == ["sl-forwards", "sl-legacy", "sl-stock"]
    # The same but for when each host was audited: the slices and the full audit ran at other times.
    assert [dict(host, audited=None) for host in merged["hosts"]] == [dict(host, audited=None) for host in full["hosts"]]
    assert all(host["audited"]["start"] <= host["audited"]["end"] for host in merged["hosts"])
    assert merged["totals"] == full["totals"] and merged["drift"] == full["drift"]


def test_the_merged_report_says_where_each_host_came_from():
    merged = report("merged")["merged"]
    slices = [str(BASE / f"slice-{n}" / "report.json") for n in (1, 2, 3)]
    assert [(source["path"], source["hosts"]) for source in merged["sources"]] == list(zip(slices, [2, 1, 1], strict=True))
    assert merged["kept"] == {"sl-forwards": slices[1], "sl-legacy": slices[0], "sl-stock": slices[2]}
    assert [(item["host"], item["kept_from"], item["left_out"]) for item in merged["duplicates"]] == [
        ("sl-stock", slices[2], [slices[0]])]
    assert report("merged")["generated_at"] == report("slice-3")["generated_at"]
    assert "- **Merged:** 3 reports" in (BASE / "merged" / "report.md").read_text()


def test_the_merge_writes_the_compliance_formats_too():
    assert assert_agree(BASE / "merged") > 50
    slices = [str(BASE / f"slice-{n}" / "report.json") for n in (1, 2, 3)]
    xccdf = (BASE / "merged" / "xccdf-results.xml").read_text()
    assert f'<xccdf:fact name="urn:mailsec.sendmail:fact:merged-from" type="string">{slices[2]}</xccdf:fact>' in xccdf
