"""After a reinstall of sendmail-bin and sendmail-base and a sendmailconfig, the host that opted in keeps its hardening
and delivers; the other fails exactly the three controls whose directories Debian's update_sendmail gives back to
smmta, as the role's summary said it would."""
from __future__ import annotations

import json
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources", "tests"))
from conftest import mailbox_count, smtp_send, unique_subject, wait_for  # noqa: E402  (the hardening scenarios' helpers)

KEPT = "upgrades-kept"
RESET = ["SM-FILE-01", "SM-PROG-02", "SM-QUEUE-01"]
# STARTTLS offered: left by hand on these hosts, where no certificate and key are named.
LEFT_BY_HAND = ["SM-TLS-03"]
WRAPPER = "/usr/share/sendmail/update_sendmail"
DISTRIB = WRAPPER + ".distrib"


def lab(host) -> dict:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)


def recorded(host, mode: str) -> dict:
    return json.loads(host.file(f"/root/upgrades-{mode}.json").content_string)


def failing(host) -> list:
    drift = host.ansible("mailsec.sendmail.sendmail_drift", "", check=True, become=True)
    return sorted(f["id"] for f in drift["findings"] if f["status"] in ("fail", "error"))


def test_check_mode_promised_what_the_real_run_did(host):
    """The owners and modes check mode took from the plan are those the real run read on the host afterwards."""
    check, real = recorded(host, "check"), recorded(host, "real")
    assert check == real
    assert real["kept_ids"] == RESET
    if host.backend.host == KEPT:
        assert real["diverted"] and real["wrapper"]
        assert [entry["path"] for entry in real["kept"]] == ["/etc/mail", "/etc/mail/smrsh", "/var/spool/mqueue"]
    else:
        assert not real["diverted"] and not real["wrapper"]


def test_the_summary_names_what_a_package_update_undoes_unless_kept(host):
    note = recorded(host, "real")["note"]
    if host.backend.host == KEPT:
        assert note is None
    else:
        assert all(control in note for control in RESET), note
        assert "/etc/mail, /etc/mail/smrsh, /var/spool/mqueue" in note, note
        assert "sendmail_hardening_keep_after_package_updates: true" in note, note


def test_update_sendmail_is_the_wrapper_only_where_kept(host):
    diversion = host.check_output(f"dpkg-divert --list {WRAPPER}")
    if host.backend.host == KEPT:
        assert diversion == f"local diversion of {WRAPPER} to {DISTRIB}"
        assert "Ansible managed" in host.file(WRAPPER).content_string
        assert host.file(WRAPPER).mode == 0o755
        # dpkg keeps Debian's script up to date where the diversion put it.
        assert WRAPPER not in host.run("dpkg --verify sendmail-base").stdout
    else:
        assert diversion == ""
        assert not host.file(DISTRIB).exists


def test_the_audit_after_the_package_operations(host):
    """Kept: compliant but what is left by hand. Not kept: the three controls fail too, and nothing else."""
    assert failing(host) == sorted(LEFT_BY_HAND + ([] if host.backend.host == KEPT else RESET))


def test_sendmail_still_delivers(host):
    entry = lab(host)
    subject = unique_subject("after-reinstall")
    smtp_send(entry["address"], entry["fqdn"], "alice", subject)
    assert wait_for(lambda: mailbox_count(host, "alice", subject)), f"{subject} was not delivered"
