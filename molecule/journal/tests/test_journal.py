"""Undo round-trips (the first audit's findings, the files as they were) and a failed run rolls back."""
from __future__ import annotations

import json
import os
import re
import smtplib
import time
import uuid

import pytest
import yaml

# What a restart (Debian's init script remakes the Makefile and the databases) and a map rebuild remake,
# the copies the hardening keeps of replaced files, dpkg's own backup of the statoverride file and the
# journal itself: all the rest must be as it was. dpkg's statoverride file is compared by its entries: dpkg keeps
# them in no particular order.
REMADE = re.compile(r"^(/etc/mail/(Makefile|databases)|\S+\.db|\S+~|/var/lib/dpkg/statoverride(-old)?|/var/lib/mailsec-sendmail(/\S*)?)\t")


def name(host) -> str:
    return host.backend.host


def address(host) -> str:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e["address"] for e in yaml.safe_load(stream) if e["instance"] == name(host))


def snapshot_now(host) -> list:
    return [line for line in host.check_output("python3 /root/snapshot.py").splitlines() if not REMADE.match(line)]


def snapshot_before(host) -> list:
    return [line for line in host.file("/root/snapshot-before.txt").content_string.splitlines() if not REMADE.match(line)]


def findings(host) -> list:
    result = host.ansible("mailsec.sendmail.sendmail_drift", check=False, become=True)
    return [f"{item['id']} {item['status']}" for item in result["findings"]]


def deliver(host) -> None:
    subject = f"journal-{uuid.uuid4().hex[:10]}"
    fqdn = host.check_output("hostname") + ".lab.test"
    with smtplib.SMTP(address(host), 25, timeout=20) as smtp:
        smtp.ehlo("controller.lab.test")
        smtp.sendmail(f"tester@{fqdn}", [f"alice@{fqdn}"], f"Subject: {subject}\r\n\r\nx\r\n")
    deadline = time.monotonic() + 60
    while f"Subject: {subject}\n" not in host.run("cat /var/mail/alice").stdout:
        assert time.monotonic() < deadline, f"{subject} was not delivered"
        time.sleep(0.5)


def test_the_audit_after_undo_finds_what_the_first_did(host):
    if name(host) == "journal-rollback":
        pytest.skip("journal-rollback is never hardened")
    undone = json.loads(host.file("/root/undo-result.json").content_string)
    assert undone["changed"] is True and undone["undone"], undone["msg"]
    assert findings(host) == host.file("/root/findings-before.txt").content_string.splitlines()


def test_every_file_owner_and_mode_is_as_before(host):
    assert snapshot_now(host) == snapshot_before(host)
    pins = sorted(host.check_output("dpkg-statoverride --list").splitlines())
    assert pins == host.file("/root/pins-before.txt").content_string.splitlines()


def test_the_failed_run_says_what_it_undid(host):
    if name(host) != "journal-rollback":
        pytest.skip("only journal-rollback has a run that fails")
    failed = json.loads(host.file("/root/rollback-result.json").content_string)
    # (failed_when: false keeps the task going; the module's own failure is in what it returned)
    assert failed["msg"].startswith("Some fixes could not be made: ") and "the database is locked by another package run" in failed["msg"]
    assert failed["msg"].endswith("the host is as it was.") and failed["rollback_errors"] == []
    kinds = {item["kind"] for item in failed["rolled_back"]}
    assert {"path", "config", "alias_edit", "statoverride"} <= kinds
    assert json.loads(host.file("/var/lib/mailsec-sendmail/journal.json").content_string)["status"] == "rolled_back"


def test_sendmail_still_runs_and_delivers(host):
    assert host.run("sendmail -bv root").rc == 0
    deliver(host)
