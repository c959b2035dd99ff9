"""SM-RUNAS-02 names the deliveries that need root; the role holds RunAsUser back on their account
(mail goes where it went) unless forced, and then lists exactly what stopped working."""
from __future__ import annotations

import json
import os
import re
import smtplib
import time
import uuid

import yaml

ALICE_FORWARD = "/home/alice/.forward"
BOB_LIST = "/home/bob/private.list"


def name(host) -> str:
    return host.backend.host


def lab(host) -> dict:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e for e in yaml.safe_load(stream) if e["instance"] == name(host))


def recorded(host, what: str):
    return json.loads(host.file(f"/root/{what}.json").content_string)


def failing(findings: list) -> list:
    return [item["id"] for item in findings if item["status"] in ("fail", "error")]


def send(host, rcpt: str) -> str:
    """One message over SMTP to rcpt, from root (a bounce lands in root's mailbox); its subject."""
    found = lab(host)
    subject = f"{rcpt}-{uuid.uuid4().hex[:10]}"
    with smtplib.SMTP(found["address"], 25, timeout=20) as smtp:
        smtp.ehlo("controller.lab.test")
        smtp.sendmail(f"root@{found['fqdn']}", [f"{rcpt}@{found['fqdn']}"],
                      f"From: root@{found['fqdn']}\r\nSubject: {subject}\r\n\r\nlab\r\n")
    return subject


def bounces(host) -> int:
    """The bounces in root's mailbox that say bob's list could not be read."""
    out = host.run(f"grep -c 'Cannot open {BOB_LIST}: Permission denied' /var/mail/root").stdout.strip()
    return int(out or 0)


def where(host, subject: str, settle: float = 4.0, timeout: float = 60.0) -> set:
    """The files the message reached, once it reached one and a few seconds passed for the others."""
    files = ("/home/alice/piped.mbox", "/var/mail/alice", "/var/mail/bob", "/var/mail/root")

    def reached():
        return {path for path in files if host.run(f"grep -qx 'Subject: {subject}' {path}").rc == 0}

    deadline = time.monotonic() + timeout
    while not reached() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(settle)
    return reached()


def test_the_audit_named_both_files_before_the_hardening(host):
    found = {item["id"]: item for item in recorded(host, "drift-before")}["SM-RUNAS-02"]
    assert found["status"] == "fail"
    assert found["actual"] == f"with RunAsUser=smmta: 2 deliveries would break: {ALICE_FORWARD}, {BOB_LIST}"
    assert f"{ALICE_FORWARD} (alice:alice 0600)" in found["evidence"]
    assert "smmta cannot read it (/home/alice is alice:alice 0700)" in found["evidence"]
    assert f"{BOB_LIST} (bob:bob 0600) named in /home/bob/.forward: smmta cannot read it" in found["evidence"]


def test_check_mode_promised_exactly_what_the_real_run_changed(host):
    check, real = recorded(host, "harden-check"), recorded(host, "harden-real")
    assert check["changed_controls"] and check["changed_controls"] == real["changed_controls"]
    assert (check["manual"], check["runas_breaks"]) == (real["manual"], real["runas_breaks"])
    planned = sorted((s["id"] or "", s["kind"], s["target"]) for s in check["plan"])
    done = sorted((s["id"] or "", s["kind"], s["target"]) for s in real["plan"] if s["changed"])
    assert planned == done


# Per host: the RunAsUser line, the controls still failing, where mail to alice and to bob lands.
EXPECTED = {
    # No STARTTLS on these hosts, and no certificate given: SM-TLS-03 is left by hand on both.
    "runas-hold": {"run_as_user": None, "failing": ["SM-RUNAS-01", "SM-RUNAS-02", "SM-TLS-03"],
                   "manual": ["SM-RUNAS-01", "SM-RUNAS-02", "SM-TLS-03"],
                   "alice": {"/home/alice/piped.mbox"}, "bob": {"/var/mail/bob", "/var/mail/root"}, "bounces": 0},
    # Forced: alice's .forward is passed over (her plain mailbox), bob's list cannot be read: the
    # message bounces back to the sender, root, and bob gets nothing.
    "runas-force": {"run_as_user": "smmta:smmsp", "failing": ["SM-RUNAS-02", "SM-TLS-03"], "manual": ["SM-RUNAS-02", "SM-TLS-03"],
                    "alice": {"/var/mail/alice"}, "bob": {"/var/mail/root"}, "bounces": 1},
}


def test_runasuser_is_held_back_unless_forced_and_the_rest_is_hardened(host):
    want = EXPECTED[name(host)]
    real = recorded(host, "harden-real")
    assert real["manual"] == want["manual"]
    assert ("SM-RUNAS-01" in real["changed_controls"]) is bool(want["run_as_user"])
    cf = host.file("/etc/mail/sendmail.cf").content_string
    assert re.findall(r"^O RunAsUser=(.*)$", cf, re.M) == ([want["run_as_user"]] if want["run_as_user"] else [])
    drift = host.ansible("mailsec.sendmail.sendmail_drift", "", check=True, become=True)
    assert failing(drift["findings"]) == want["failing"]
    found = {item["id"]: item for item in drift["findings"]}["SM-RUNAS-02"]
    verb = "RunAsUser=smmta is set: 2 deliveries broken now" if want["run_as_user"] else "with RunAsUser=smmta: 2 deliveries would break"
    assert found["actual"] == f"{verb}: {ALICE_FORWARD}, {BOB_LIST}"


def test_one_message_says_why_or_what_stops_working(host):
    """Held back: one warning naming both files; forced: runas_breaks lists exactly them, and a warning says so."""
    real = recorded(host, "harden-real")
    held = [item["why"] for item in real["not_done"] if item["id"] == "SM-RUNAS-01"]
    if EXPECTED[name(host)]["run_as_user"]:
        assert held == []
        assert [line.split(" ", 1)[0] for line in real["runas_breaks"]] == [ALICE_FORWARD, BOB_LIST]
        said = [text for text in real["warnings"] if text.startswith("RunAsUser set although 2 deliveries need root")]
    else:
        assert real["runas_breaks"] == []
        assert len(held) == 1 and held[0].startswith("RunAsUser=smmta left unset: 2 deliveries on this host need root")
        assert ALICE_FORWARD in held[0] and BOB_LIST in held[0]
        said = [text for text in real["warnings"] if "RunAsUser=smmta left unset" in text]
    assert len(said) == 1 and ALICE_FORWARD in said[0] and BOB_LIST in said[0]


def test_mail_through_both_paths_lands_where_the_result_says(host):
    want = EXPECTED[name(host)]
    assert where(host, send(host, "alice")) == want["alice"]
    before = bounces(host)
    assert where(host, send(host, "bob")) == want["bob"]
    assert bounces(host) - before == want["bounces"]
