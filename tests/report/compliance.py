"""The audit's XCCDF, ARF and OSCAL files read back as (host, control) -> status, for the report tests and the
audit scenario: each file's statuses must say what report.json says. Standard library only."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

X = "{http://checklists.nist.gov/xccdf/1.2}"
RULE_PREFIX = "xccdf_mailsec.sendmail_rule_"
# report.json's status of a finding as each format says it (see _report_scap and _report_oscal).
AS_XCCDF = {"pass": "pass", "fail": "fail", "error": "error", "not_applicable": "notapplicable", "waived": "informational"}
AS_OSCAL = {"fail", "error", "waived"}


def json_statuses(report: dict) -> dict:
    """(host, control) -> XCCDF result, from report.json: the findings, the excluded controls as notselected, every
    control of a host not audited as error (``controls`` lists the Benchmark's rules)."""
    found = {}
    for host in report["hosts"]:
        for finding in host["findings"]:
            found[host["host"], finding["id"]] = AS_XCCDF[finding["status"]]
        for item in host["excluded"]:
            found[host["host"], item["id"]] = "notselected"
    return found


def xccdf_statuses(path: Path) -> tuple:
    """((host, control) -> result, the hosts not audited) of an xccdf-results.xml or arf.xml; the results a report.json
    has no finding for (notselected controls the catalogue has beyond a host's audit, errors of a host not audited)
    are kept apart."""
    root = ET.parse(path).getroot()
    found, down = {}, set()
    for test in root.iter(X + "TestResult"):
        host = test.findtext(X + "target")
        if ": not audited: " in test.findtext(X + "title"):
            down.add(host)
        for rule in test.iter(X + "rule-result"):
            found[host, rule.get("idref")[len(RULE_PREFIX):]] = rule.findtext(X + "result")
    return found, down


def oscal_statuses(path: Path) -> tuple:
    """((host, control) -> status of each finding, the hosts the observations say were not audited)."""
    [result] = json.loads(path.read_text(encoding="utf-8"))["assessment-results"]["results"]
    names = {item["uuid"]: next(p["value"] for p in item["props"] if p["name"] == "host")
             for item in result["local-definitions"]["inventory-items"]}
    observed = {obs["uuid"]: obs for obs in result.get("observations", [])}
    found = {}
    for finding in result.get("findings", []):
        status = next(p["value"] for p in finding["props"] if p["name"] == "status")
        host = next(p["value"] for p in finding["props"] if p["name"] == "host")
        subject = observed[finding["related-observations"][0]["observation-uuid"]]["subjects"][0]["subject-uuid"]
        assert names[subject] == host
        found[host, finding["target"]["target-id"]] = status
    down = {names[obs["subjects"][0]["subject-uuid"]] for obs in observed.values() if obs["title"] == "Not audited"}
    return found, down


def assert_agree(directory: Path) -> int:
    """Every status of xccdf-results.xml, arf.xml and oscal-assessment-results.json in ``directory`` says what its
    report.json says, host by host and control by control; the number of (host, control) pairs compared."""
    report = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    expected = json_statuses(report)
    not_audited = {host["host"] for host in report["hosts"] if not host["reachable"]}
    for name in ("xccdf-results.xml", "arf.xml"):
        found, down = xccdf_statuses(directory / name)
        assert down == not_audited, name
        judged = {key: value for key, value in found.items() if key[0] not in not_audited and key in expected}
        assert judged == {key: value for key, value in expected.items() if key[0] not in not_audited}, name
        # What report.json has no finding for: controls left out of a host's audit, and hosts not audited.
        rest = {value for key, value in found.items() if key not in expected and key[0] not in not_audited}
        assert rest <= {"notselected"}, (name, rest)
        for host in not_audited:
            assert {value for key, value in found.items() if key[0] == host} == {"error"}, (name, host)
    found, down = oscal_statuses(directory / "oscal-assessment-results.json")
    assert down == not_audited
    assert {key: value for key, value in found.items() if key[0] not in not_audited} == {
        (host["host"], finding["id"]): finding["status"] for host in report["hosts"] for finding in host["findings"]
        if finding["status"] in AS_OSCAL}
    # A host not audited: every control in error, as in XCCDF.
    rules, _down = xccdf_statuses(directory / "xccdf-results.xml")
    assert {key: value for key, value in found.items() if key[0] in not_audited} == {
        key: "error" for key in rules if key[0] in not_audited}
    return len(expected)
