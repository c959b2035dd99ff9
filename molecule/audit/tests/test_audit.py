"""The audit reports exactly the drift each profile has, in reports that parse, and changes nothing."""
from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from testinfra.modules.ansible import AnsibleException

# The compliance formats read back as statuses, shared with the report tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "report"))
from compliance import assert_agree  # noqa: E402

# What stock Debian ships that the baseline does not accept (DOMAIN.md, measured on the lab).
STOCK_FAILS = {"SM-RUNAS-01", "SM-SETUID-01", "SM-FILE-01", "SM-QUEUE-01", "SM-SAFE-01",
               "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03", "SM-ALIAS-02", "SM-FWD-01", "SM-PROG-01",
               "SM-PROG-02", "SM-DOS-01", "SM-TLS-03", "SM-TLS-05"}
# What the lab's legacy profile breaks on top (README, "Profiles").
# Its decode alias runs a program: SM-RUNAS-02 names it until the hardening comments the alias out.
LEGACY_FAILS = STOCK_FAILS | {"SM-STATOVR-01", "SM-QUEUE-02", "SM-FILE-02", "SM-FILE-05", "SM-LOG-01", "SM-RELAY-01",
                              "SM-ALIAS-01", "SM-ALIAS-03", "SM-RUNAS-02", "SM-PROG-03", "SM-LOG-02"}
# The source builds replace only the binary, as root:smmsp 2755: the drift stays stock Debian's,
# and SM-PRIVDROP-01 passes with their setreuid and setuid (the kernel lets both work).
# The SMTPDEBUG build fails SM-SMTP-04 besides: its DEBUG command answers.
# They are built without STARTTLS besides, so the controls of its options do not apply there.
BUILT_FAILS = STOCK_FAILS - {"SM-TLS-03", "SM-TLS-05"}
EXPECTED_FAILS = {"stock": STOCK_FAILS, "legacy": LEGACY_FAILS, "setreuid": BUILT_FAILS, "setuid": BUILT_FAILS,
                  "smtpdebug": BUILT_FAILS | {"SM-SMTP-04"}}
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
    """Four audit runs (two in check mode) later, /etc, /usr and /var are exactly as before."""
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


SMTP_CONTROLS = ["SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03", "SM-SMTP-04"]
# Where the audit looks for sendmail's program besides /usr/sbin/sendmail (_read_host.SENDMAIL_PROGRAMS, alternatives).
SENDMAIL_PLACES = ("/usr/sbin/sendmail", "/usr/sbin/sendmail.sendmail", "/usr/lib/sendmail", "/usr/libexec/sendmail/sendmail",
                   "/usr/lib/sm.bin/sendmail", "/etc/alternatives/mta")


def test_every_report_names_the_controls_the_selection_left_out(host, report_dir):
    """The converge's second audit left out the smtp family: each format says so, the sentence of the result too."""
    excluded_dir = report_dir.parent / "report-excluded"
    report = json.loads((excluded_dir / "report.json").read_text())
    entry = _host_entry(report, host.backend.host)
    assert [item["id"] for item in entry["excluded"]] == SMTP_CONTROLS
    assert not {finding["id"] for finding in entry["findings"]} & set(SMTP_CONTROLS)
    assert [item["id"] for item in report["excluded"]] == SMTP_CONTROLS and report["totals"]["controls_excluded"] == 4
    sentence = "4 controls excluded: " + ", ".join(SMTP_CONTROLS)
    assert sentence in (excluded_dir / "report.md").read_text()
    assert sentence in (excluded_dir / "report.html").read_text()
    suite = next(s for s in ET.parse(excluded_dir / "junit.xml").getroot().iter("testsuite") if s.get("name") == host.backend.host)
    skipped = {case.get("name").split()[0]: case.find("skipped").get("message")
               for case in suite.findall("testcase") if case.find("skipped") is not None}
    assert all(skipped[control_id] == "excluded from this audit (include/exclude)" for control_id in SMTP_CONTROLS)


def test_sendmail_found_elsewhere_than_asked_is_audited_and_said(host):
    drift = host.ansible("mailsec.sendmail.sendmail_drift", "binary=/nonexistent/sendmail include=SM-SETGID-01 probe_kernel=false",
                         check=True, become=True)
    assert drift["sendmail"]["installed"] is True and drift["sendmail"]["program"] == "/usr/sbin/sendmail"
    assert drift["sendmail"]["found"].startswith("/nonexistent/sendmail does not exist; sendmail found at ")
    assert drift["findings"][0]["evidence"].endswith(drift["sendmail"]["found"])


def test_a_daemon_without_its_program_drifts_and_is_not_hardened(host):
    """sendmail's program removed under the running daemon (as a broken package or alternatives link leaves it): the
    audit says what runs and what is missing, every control in error, and the hardening fails instead of skipping.
    The program is put back as it was; the daemon keeps running the copy it started from."""
    if host.backend.host != "audit-stock":
        pytest.skip("one host is enough: it takes sendmail's program away for a moment")
    program = host.check_output("readlink -f /usr/sbin/sendmail")
    # Every program the places sendmail is looked for lead to, so that none answers.
    places = " ".join(SENDMAIL_PLACES)
    programs = sorted(set(host.check_output(f"for p in {places}; do [ -f \"$p\" ] && readlink -f \"$p\"; done; true").split()))
    assert program in programs
    aside = {path: "/root/aside-%d" % number for number, path in enumerate(programs)}
    host.run_test(" && ".join(f"cp -a {path} {copy} && rm -f {path}" for path, copy in aside.items()))
    try:
        drift = host.ansible("mailsec.sendmail.sendmail_drift", "include=queue probe_kernel=false", check=True, become=True)
        # testinfra raises for a result marked failed; ansible-core 2.19's --tree output of a failed module may
        # leave the mark out, so the result is judged by what it says either way.
        try:
            hardening = host.ansible("mailsec.sendmail.sendmail_harden", "include=queue", check=True, become=True)
        except AnsibleException as exc:
            hardening = exc.result
    finally:
        host.run_test(" && ".join(f"cp -a {copy} {path} && rm -f {copy}" for path, copy in aside.items()))
    seen = drift["sendmail"]["seen"]
    assert re.match(r"(a sendmail daemon runs|sendmail daemons run) \(pid \d+, %s \(deleted\)" % re.escape(program), seen), seen
    assert "but /usr/sbin/sendmail does not exist" in seen
    assert drift["sendmail"]["installed"] is False and drift["drift"] is True and drift["verdict"] == "drift"
    assert {finding["status"] for finding in drift["findings"]} == {"error"}
    assert drift["findings"][0]["actual"] == "cannot be audited: " + seen
    assert hardening["msg"].startswith(seen) and hardening["msg"].endswith("nothing was changed.")
    assert not hardening.get("skipped") and hardening["plan"] == [] and hardening["changed"] is False
    assert host.ansible("mailsec.sendmail.sendmail_drift", "include=queue probe_kernel=false", check=True,
                        become=True)["sendmail"]["installed"] is True


def test_the_compliance_formats_agree_with_report_json_and_openscap_validates_them(report_dir):
    """XCCDF, ARF and OSCAL of both audits (the second with an exclusion and a waiver) say what report.json says,
    host by host and control by control; OpenSCAP validates the XCCDF results and the ARF. Once for the whole
    audit, not once per host: the files cover every host."""
    excluded_dir = report_dir.parent / "report-excluded"
    for directory in (report_dir, excluded_dir):
        assert assert_agree(directory) > 100
    waived = json.loads((excluded_dir / "report.json").read_text())["waived"]
    assert [(item["id"], item["hosts"]) for item in waived] == [("SM-SETUID-01", ["audit-stock"])]
    assert 'waived: sensible-mda stays set-user-id until procmail is gone (expires 2099-12-31)' in (
        excluded_dir / "xccdf-results.xml").read_text()
    oscap = shutil.which("oscap")
    assert oscap, "oscap is not installed (make molecule installs Debian's openscap-scanner)"
    for args in (["xccdf", "validate", str(excluded_dir / "xccdf-results.xml")], ["ds", "rds-validate", str(excluded_dir / "arf.xml")]):
        proc = subprocess.run([oscap, *args], capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0 and "Error" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
