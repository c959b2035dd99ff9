"""The audit reports exactly the drift each profile has, in reports that parse, and changes nothing."""
from __future__ import annotations

import json
import os
import re
import smtplib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

# What stock Debian ships that the baseline does not accept (DOMAIN.md, measured on the lab).
STOCK_FAILS = {"SM-RUNAS-01", "SM-SETUID-01", "SM-FILE-01", "SM-QUEUE-01", "SM-SAFE-01",
               "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03", "SM-ALIAS-02", "SM-FWD-01", "SM-PROG-01",
               "SM-PROG-02", "SM-DOS-01"}
# What the lab's legacy profile breaks on top (README, "Profiles").
# Its decode alias runs a program: SM-RUNAS-02 names it until the hardening comments the alias out.
LEGACY_FAILS = STOCK_FAILS | {"SM-STATOVR-01", "SM-QUEUE-02", "SM-FILE-02", "SM-FILE-05", "SM-LOG-01", "SM-RELAY-01",
                              "SM-ALIAS-01", "SM-ALIAS-03", "SM-RUNAS-02", "SM-PROG-03", "SM-LOG-02"}
# The source builds replace only the binary, as root:smmsp 2755: the drift stays stock Debian's,
# and SM-PRIVDROP-01 passes with their setreuid and setuid (the kernel lets both work).
# The SMTPDEBUG build fails SM-SMTP-04 besides: its DEBUG command answers.
EXPECTED_FAILS = {"stock": STOCK_FAILS, "legacy": LEGACY_FAILS, "setreuid": STOCK_FAILS, "setuid": STOCK_FAILS,
                  "smtpdebug": STOCK_FAILS | {"SM-SMTP-04"}}
DROP_METHOD = {"setreuid": "setreuid", "setuid": "setuid"}


@pytest.fixture(scope="module")
def report_dir() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "report"


@pytest.fixture(scope="module")
def report(report_dir):
    return json.loads((report_dir / "report.json").read_text())


def _instance(host) -> dict:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)


@pytest.fixture
def profile(host) -> str:
    return _instance(host)["profile"]


@pytest.fixture
def refused(host) -> bool:
    """Whether the host's kernel refuses setreuid (the lab's denied system calls)."""
    return "setreuid" in _instance(host).get("deny_syscalls", [])


def _host_entry(report, name):
    return next(h for h in report["hosts"] if h["host"] == name)


def test_host_is_unchanged_by_the_audit(host):
    """Two audit runs (one in check mode) later, /etc, /usr and /var are exactly as before."""
    host.run_test("python3 /root/snapshot.py > /root/snapshot-after.txt")
    diff = host.run("diff /root/snapshot-before.txt /root/snapshot-after.txt")
    assert diff.rc == 0, diff.stdout[:4000]
    assert int(host.check_output("wc -l < /root/snapshot-after.txt")) > 5000


def test_exact_failing_controls(host, report, profile, refused):
    entry = _host_entry(report, host.backend.host)
    failing = {f["id"] for f in entry["findings"] if f["status"] == "fail"}
    assert failing == EXPECTED_FAILS[profile] | ({"SM-PRIVDROP-01"} if refused else set())
    assert entry["drift"] is True
    assert not [f for f in entry["findings"] if f["status"] == "error"]


def test_the_drop_method_is_the_builds_own(host, report, profile, refused):
    entry = _host_entry(report, host.backend.host)
    privdrop = next(f for f in entry["findings"] if f["id"] == "SM-PRIVDROP-01")
    assert privdrop["status"] == ("fail" if refused else "pass")
    assert privdrop["actual"] == "%s %s on this kernel" % (DROP_METHOD.get(profile, "seteuid"), "fails" if refused else "works")


def test_failures_carry_evidence_fix_and_reference(host, report):
    for finding in _host_entry(report, host.backend.host)["findings"]:
        if finding["status"] == "fail":
            assert finding["evidence"] and finding["fix"] and finding["references"], finding["id"]
            assert finding["expected"] != finding["actual"], finding["id"]


def test_junit_has_one_case_per_host_and_control(host, report, report_dir):
    suites = ET.parse(report_dir / "junit.xml").getroot()
    assert suites.tag == "testsuites"
    name = host.backend.host
    suite = next(s for s in suites.iter("testsuite") if name in s.get("name", ""))
    entry = _host_entry(report, name)
    cases = suite.findall("testcase")
    assert len(cases) == len(entry["findings"])
    failed = {c.get("name").split()[0] for c in cases if c.find("failure") is not None}
    assert failed == {f["id"] for f in entry["findings"] if f["status"] == "fail"}
    assert int(suite.get("failures")) == len(failed)


def test_html_report_is_self_contained(host, report_dir):
    html = (report_dir / "report.html").read_text()
    assert host.backend.host in html
    # Opens on an air-gapped laptop: nothing is fetched from anywhere; its one script is inline, allowed by its hash.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html, re.I)
    assert html.lower().count("<script") == 1 and "<script>" in html and "script-src 'sha256-" in html
    assert "@import" not in html and "url(" not in html
    assert 'id="matrix"' in html and f'<tr data-host="{host.backend.host}">' in html
    assert (report_dir / "report.md").read_text().count(host.backend.host) >= 1


# The STIG items of the controls beyond the privilege model that each profile fails.
STIG_ITEMS = {"SM-SMTP-01": ["GEN004660", "GEN004680"], "SM-SMTP-02": ["GEN004560"], "SM-SMTP-03": ["GEN004540"],
              "SM-ALIAS-01": ["GEN004640"], "SM-ALIAS-03": ["GEN004400", "GEN004420", "GEN004430"],
              "SM-FWD-01": ["GEN004580"], "SM-LOG-01": ["GEN004440"], "SM-LOG-02": ["GEN004480", "GEN004500"],
              "SM-RELAY-01": ["GEN004710"]}


def test_every_report_names_the_stig_items_of_the_failing_controls(host, report, report_dir, profile):
    """report.json, junit.xml, report.md and report.html each carry the STIG item of every failing control that has one."""
    failing = EXPECTED_FAILS[profile]
    texts = {name: (report_dir / name).read_text() for name in ("junit.xml", "report.md", "report.html")}
    findings = {f["id"]: f for f in _host_entry(report, host.backend.host)["findings"]}
    for control_id, items in STIG_ITEMS.items():
        if control_id not in failing:
            continue
        for item in items:
            assert any(item in ref for ref in findings[control_id]["references"]), (control_id, item)
            for name, text in texts.items():
                assert item in text, (name, control_id, item)


def test_debug_answers_over_the_wire_exactly_where_sm_smtp_04_fails(host, report, profile):
    """What SM-SMTP-04 reads from `-d0.10` is what a client sees: DEBUG is "200 Debug set" on the SMTPDEBUG
    build, and a command unrecognized elsewhere. Last test: it speaks SMTP to the host."""
    entry = _host_entry(report, host.backend.host)
    debugging = next(f for f in entry["findings"] if f["id"] == "SM-SMTP-04")
    with smtplib.SMTP(_instance(host)["address"], 25, timeout=20) as smtp:
        smtp.ehlo("auditor.lab.test")
        code, _text = smtp.docmd("DEBUG")
    assert (debugging["status"], code) == (("fail", 200) if profile == "smtpdebug" else ("pass", 500))
