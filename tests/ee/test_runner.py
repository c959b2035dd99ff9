"""The audit and the hardening run as AWX runs them: ansible-runner, process isolation in the execution
environment (EE_IMAGE), against a stock and a legacy lab host reached over SSH from the container.

The jobs run in order, each with a private data dir of its own as AWX makes them: an audit, the hardening
as a "check" job (--check), an audit that must find the hosts as before, the hardening, an audit that
finds them hardened.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mailsec_lab import config
from mailsec_lab.testing import lab, started

HOSTS = {"ee-stock": "bookworm:stock:light", "ee-legacy": "bookworm:legacy:light"}
# What fails on each host before the hardening, as the audit and harden scenarios know it: all of it is
# repaired but SM-TLS-03 (STARTTLS offered), a manual step where no certificate and key are named.
LEFT_BY_HAND = {"SM-TLS-03"}
FAILING = {
    "ee-stock": {"SM-FILE-01", "SM-QUEUE-01", "SM-RUNAS-01", "SM-SAFE-01", "SM-SETUID-01",
                 "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03", "SM-ALIAS-02", "SM-FWD-01", "SM-PROG-01",
                 "SM-PROG-02", "SM-DOS-01", "SM-TLS-03", "SM-TLS-05"},
    "ee-legacy": {"SM-FILE-01", "SM-FILE-02", "SM-FILE-05", "SM-QUEUE-01", "SM-QUEUE-02", "SM-RUNAS-01",
                  "SM-SAFE-01", "SM-SETUID-01", "SM-STATOVR-01", "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03",
                  "SM-LOG-01", "SM-DOS-01", "SM-RELAY-01", "SM-ALIAS-01", "SM-ALIAS-02", "SM-ALIAS-03",
                  "SM-FWD-01", "SM-PROG-01", "SM-PROG-02", "SM-PROG-03", "SM-LOG-02", "SM-RUNAS-02",
                  "SM-TLS-03", "SM-TLS-05"},
}
REPORTS = "{{ lookup('ansible.builtin.env', 'AWX_ISOLATED_DATA_DIR') }}/reports"


@pytest.fixture(scope="module")
def lab_hosts():
    os.environ.setdefault("MAILSEC_LAB_STATE", "/var/lib/mailsec-lab-ee")
    lab("down")  # what a killed run left
    yield from started(HOSTS)


@pytest.fixture(scope="module")
def job(lab_hosts, tmp_path_factory):
    """Runs one job in a private data dir of its own, as AWX writes one for each job: inventory, the
    SSH key as the machine credential, settings, extra variables, --check for a check job, a project."""
    inventory = json.loads(config.inventory_path().read_text().split("\n", 1)[1])
    for hostvars in inventory["all"]["children"]["lab"]["hosts"].values():
        del hostvars["ansible_ssh_private_key_file"]  # the key is the job's credential, env/ssh_key

    def run(ident: str, playbook: str, check: bool = False) -> Path:
        root = tmp_path_factory.mktemp(ident)
        (root / "inventory").mkdir()
        (root / "inventory" / "lab.json").write_text(json.dumps(inventory))
        (root / "env").mkdir()
        shutil.copy(config.key_path(), root / "env" / "ssh_key")
        (root / "env" / "envvars").write_text(json.dumps({"ANSIBLE_HOST_KEY_CHECKING": "False"}))
        (root / "env" / "settings").write_text(json.dumps({
            "process_isolation": True, "process_isolation_executable": "podman",
            "container_image": os.environ["EE_IMAGE"],
            # The image's user cannot write the mounted /runner; AWX's own EEs run as root too.
            "container_options": ["--user=root"],
        }))
        (root / "env" / "extravars").write_text(json.dumps({"sendmail_audit_report_dir": REPORTS}))
        if check:
            (root / "env" / "cmdline").write_text("--check")
        (root / "project").mkdir()
        (root / "project" / playbook).write_text(
            f"---\n- name: {playbook}\n  ansible.builtin.import_playbook: mailsec.sendmail.{Path(playbook).stem}\n")
        argv = ["ansible-runner", "run", str(root), "-p", playbook, "--ident", ident]
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        artifacts = root / "artifacts" / ident
        assert proc.returncode == 0, f"{ident}: ansible-runner exited {proc.returncode}\n{proc.stdout[-4000:]}{proc.stderr}"
        assert (artifacts / "status").read_text() == "successful", proc.stdout[-4000:]
        assert (artifacts / "rc").read_text() == "0"
        assert ("--check" in json.loads((artifacts / "command").read_text())["command"][-1]) == check
        return artifacts

    return run


def events(artifacts: Path) -> list[dict]:
    found = [json.loads(path.read_text()) for path in (artifacts / "job_events").glob("*.json")]
    return sorted(found, key=lambda event: event["counter"])


def stats(artifacts: Path) -> dict:
    """The playbook_on_stats event's figures: 'ok', 'changed', 'failures', … -> host -> count."""
    (last,) = [event for event in events(artifacts) if event["event"] == "playbook_on_stats"]
    return last["event_data"]


def statuses(artifacts: Path) -> dict:
    """host -> control id -> status, from the report.json the audit wrote into the job's artifacts."""
    report = json.loads((artifacts / "reports" / "report.json").read_text())
    return {host["host"]: {finding["id"]: finding["status"] for finding in host["findings"]}
            for host in report["hosts"]}


@pytest.fixture(scope="module")
def jobs(job) -> dict:
    """The five jobs, in order; each later one depends on what the earlier ones did to the hosts."""
    return {
        "audit": job("audit", "audit.yml"),
        "check": job("check", "harden.yml", check=True),
        "audit-after-check": job("audit-after-check", "audit.yml"),
        "harden": job("harden", "harden.yml"),
        "audit-after": job("audit-after", "audit.yml"),
    }


def drifting(found: dict) -> set:
    """The controls a host drifts on (fail or error); not_applicable is none (the mail log of a host without syslog)."""
    return {control for control, status in found.items() if status in ("fail", "error")}


def test_the_audit_job_reports_the_legacy_host_in_the_artifacts(jobs):
    found = statuses(jobs["audit"])
    assert sorted(found) == sorted(HOSTS)
    for host, failing in FAILING.items():
        assert drifting(found[host]) == failing
    for name in ("junit.xml", "report.md", "report.html"):
        assert (jobs["audit"] / "reports" / name).stat().st_size > 0


def test_the_job_events_tell_each_host_and_task(jobs):
    seen = events(jobs["audit"])
    kinds = {event["event"] for event in seen}
    assert {"playbook_on_start", "playbook_on_play_start", "playbook_on_task_start", "runner_on_ok",
            "playbook_on_stats"} <= kinds
    hosts_ok = {event["event_data"]["host"] for event in seen if event["event"] == "runner_on_ok"}
    assert set(HOSTS) <= hosts_ok
    assert all(event["runner_ident"] == "audit" for event in seen)
    assert not stats(jobs["audit"])["failures"]


def test_a_check_job_reports_the_changes_and_makes_none(jobs):
    assert set(stats(jobs["check"])["changed"]) == set(HOSTS)
    assert not stats(jobs["check"])["failures"]
    assert statuses(jobs["audit-after-check"]) == statuses(jobs["audit"])


def test_the_harden_job_hardens_and_the_next_audit_says_so(jobs):
    assert set(stats(jobs["harden"])["changed"]) == set(HOSTS)
    assert not stats(jobs["harden"])["failures"]
    after = statuses(jobs["audit-after"])
    assert {host: drifting(found) for host, found in after.items()} == {host: LEFT_BY_HAND for host in HOSTS}
