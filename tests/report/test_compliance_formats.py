"""XCCDF, ARF and OSCAL as the tools that load them read them: OpenSCAP validates the Benchmark, the results and the
ARF and renders a host's results to HTML that headless Chromium shows; compliance-trestle loads the OSCAL file;
every status says what report.json says. The reports are those of a compared audit: every status, a waiver, an
excluded control, a host not audited, controls this catalogue does not know."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from compliance import RULE_PREFIX, X, assert_agree
from fleet import chromium, fleet_results

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import FORMATS
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import prepare

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/unit/plugins/module_utils/fixtures/report/compliance.json"
BENCHMARK = ROOT / "docs/xccdf-benchmark.xml"
FIRST, SECOND = "2026-11-01T08:00:00Z", "2026-12-01T08:00:00Z"


def write(results: list, dest: Path, stamp: str, compare_with: Path | None = None) -> Path:
    _result, contents = prepare(results, str(dest), list(FORMATS), "mailsec.sendmail", stamp, "0.1.0",
                                str(compare_with) if compare_with else None)
    dest.mkdir(parents=True, exist_ok=True)
    for path, data in contents.items():
        Path(path).write_bytes(data)
    return dest


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    results = json.loads(FIXTURE.read_text()) + fleet_results(12)
    first = write(results, tmp_path_factory.mktemp("first"), FIRST)
    return write(results, tmp_path_factory.mktemp("second"), SECOND, first / "report.json")


def oscap(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("oscap")
    assert binary, "oscap is not installed (make test installs Debian's openscap-scanner)"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)


def assert_valid(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not re.search(r"^(Error|OpenSCAP Error)", proc.stdout + proc.stderr, re.M), proc.stdout + proc.stderr


def test_openscap_validates_the_benchmark_the_results_and_the_arf(reports):
    assert_valid(oscap("xccdf", "validate", str(BENCHMARK)))
    assert_valid(oscap("xccdf", "validate", str(reports / "xccdf-results.xml")))
    assert_valid(oscap("ds", "rds-validate", str(reports / "arf.xml")))


def test_openscap_tells_a_broken_file(reports, tmp_path):
    """The validation above can fail: a rule-result naming no Rule of the Benchmark is refused."""
    broken = tmp_path / "broken.xml"
    broken.write_text((reports / "xccdf-results.xml").read_text().replace(
        'idref="xccdf_mailsec.sendmail_rule_SM-RUNAS-01" time', 'idref="xccdf_mailsec.sendmail_rule_SM-NONE-00" time', 1))
    assert oscap("xccdf", "validate", str(broken)).returncode != 0


def test_every_status_says_what_report_json_says(reports):
    assert assert_agree(reports) > 100


def one_host(results: Path, host: str, dest: Path) -> Path:
    """The results with the TestResult of ``host`` alone: OpenSCAP 1.3's report renders the most recent TestResult
    and ignores --result-id."""
    ET.register_namespace("xccdf", X[1:-1])
    tree = ET.parse(results)
    root = tree.getroot()
    for test in root.findall(X + "TestResult"):
        if test.findtext(X + "target") != host:
            root.remove(test)
    tree.write(dest, encoding="UTF-8", xml_declaration=True)
    return dest


def rendered(results: Path, page: Path) -> str:
    proc = oscap("xccdf", "generate", "report", "--output", str(page), str(results))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return chromium("--dump-dom", page.as_uri()).stdout


def shown(dom: str) -> dict:
    """Rule id to the result OpenSCAP's report shows for it (the class of the rule's row in its overview)."""
    return {rule[len(RULE_PREFIX):]: result for rule, result in re.findall(
        r'data-tt-id="(%s[^"]+)" class="rule-overview-leaf rule-overview-leaf-([a-z]+)' % RULE_PREFIX, dom)}


def expected_shown(results: Path, report: dict, host: str) -> dict:
    """Rule id to the result the report of ``host`` must show: what xccdf-results.xml says, checked against
    report.json by test_every_status_says_what_report_json_says."""
    root = ET.parse(results).getroot()
    test = next(t for t in root.iter(X + "TestResult") if t.findtext(X + "target") == host)
    return {rule.get("idref")[len(RULE_PREFIX):]: rule.findtext(X + "result") for rule in test.iter(X + "rule-result")
            if rule.findtext(X + "result") != "notselected"}


def test_openscap_renders_the_most_recent_host_of_the_whole_file(reports, tmp_path):
    report = json.loads((reports / "report.json").read_text())
    dom = rendered(reports / "xccdf-results.xml", tmp_path / "all.html")
    last = report["hosts"][-1]["host"]  # all end at the same time here: the last of them
    assert f"<td>{last}</td>" in dom
    assert shown(dom) == expected_shown(reports / "xccdf-results.xml", report, last)


def test_openscap_renders_every_host_with_each_rule_as_it_came_out(reports, tmp_path):
    """Every host, each rule shown with its own result: a failing rule shown as passing would fail this."""
    report = json.loads((reports / "report.json").read_text())
    for entry in report["hosts"]:
        host = entry["host"]
        dom = rendered(one_host(reports / "xccdf-results.xml", host, tmp_path / "one.xml"), tmp_path / "host.html")
        assert f"<td>{host}</td>" in dom
        results = shown(dom)
        assert results == expected_shown(reports / "xccdf-results.xml", report, host), host
        failing = [item["id"] for item in entry["findings"] if item["status"] in ("fail", "error")]
        assert all(results[control] in ("fail", "error") for control in failing), host
        if not entry["reachable"]:
            assert set(results.values()) == {"error"}


def test_a_screenshot_shows_the_openscap_report(reports, tmp_path):
    page, shot = tmp_path / "host.html", tmp_path / "host.png"
    rendered(one_host(reports / "xccdf-results.xml", "mx1.example.org", tmp_path / "one.xml"), page)
    chromium(f"--screenshot={shot}", "--window-size=1200,900", "--hide-scrollbars", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000  # a painted page, not a blank one


def test_compliance_trestle_loads_the_oscal_file(reports, tmp_path):
    python = os.environ.get("TRESTLE_PYTHON")
    assert python, "TRESTLE_PYTHON names the python of the compliance-trestle venv (make report-test sets it)"
    script = ("import json, pathlib, sys\n"
              "from trestle.oscal.assessment_results import AssessmentResults\n"
              "doc = AssessmentResults.oscal_read(pathlib.Path(sys.argv[1]))\n"
              "result = doc.results[0]\n"
              "print(json.dumps({'findings': len(result.findings or []), 'observations': len(result.observations or []),"
              " 'items': len(result.local_definitions.inventory_items), 'risks': len(result.risks or [])}))\n")
    proc = subprocess.run([python, "-c", script, str(reports / "oscal-assessment-results.json")], capture_output=True,
                          text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout)
    report = json.loads((reports / "report.json").read_text())
    failing = sum(1 for host in report["hosts"] for item in host["findings"] if item["status"] in ("fail", "error", "waived"))
    down = sum(1 for host in report["hosts"] if not host["reachable"])
    rules = len(list(ET.parse(reports / "xccdf-results.xml").getroot().iter(X + "Rule")))
    # A host not audited: one observation, and every control in error.
    assert counts == {"findings": failing + down * rules, "observations": failing + down, "items": len(report["hosts"]),
                      "risks": sum(1 for host in report["hosts"] for item in host["findings"] if item["status"] == "waived")}
    # And it refuses a broken one: the check can fail.
    broken = tmp_path / "broken-oscal.json"
    doc = json.loads((reports / "oscal-assessment-results.json").read_text())
    del doc["assessment-results"]["import-ap"]
    broken.write_text(json.dumps(doc))
    assert subprocess.run([python, "-c", script, str(broken)], capture_output=True, text=True, timeout=300,
                          check=False, stdin=subprocess.DEVNULL).returncode != 0
