"""The collection on an EL9 host: judged with Red Hat's values, hardened, mail flowing through both units, rpm -V
showing exactly the hardening's changes, an update's undoing put back by the DNF action, and undo."""
from __future__ import annotations

import json
import time
import uuid

import pytest

# What the packaged host fails before the hardening (Red Hat's values: RunAsUser mailnull, smrsh already there,
# the MTA on loopback, STARTTLS configured).
FAILING_BEFORE = ["SM-RUNAS-01", "SM-RUNAS-02", "SM-FILE-07", "SM-SAFE-02", "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03",
                  "SM-FWD-01", "SM-DOS-01", "SM-TLS-05"]
# RunAsUser stays unset, with one message: Red Hat's local mailer, procmail (0755, no set-id bit), becomes the
# recipient only when a root daemon runs it, and the package's certificate is root's alone (0600).
LEFT_BY_HAND = ["SM-RUNAS-01", "SM-RUNAS-02"]
# The package's file whose mode the hardening sets (rpm -V, after it): the submission program's statistics, no
# longer group-writable.
INTENDED = {"/var/spool/clientmqueue/sm-client.st": ["mode"]}


def _drift(host, **args) -> dict:
    text = " ".join(f"{key}={value}" for key, value in args.items())
    return host.ansible("mailsec.sendmail.sendmail_drift", text, check=True, become=True)


def _failing(drift: dict) -> list:
    return [item["id"] for item in drift["findings"] if item["status"] in ("fail", "error")]


def _recorded(host, name: str) -> dict:
    return json.loads(host.file(f"/root/{name}").content_string)


def test_the_packaged_host_was_judged_with_red_hats_values(host):
    before = _recorded(host, "drift-before.json")
    assert before["os_family"] == "RedHat"
    assert _failing(before) == FAILING_BEFORE
    statuses = {item["id"]: item["status"] for item in before["findings"]}
    # dpkg's statoverrides have no meaning on an rpm host; smrsh, the MTA's RunAsUser mailnull and the queues are judged
    assert statuses["SM-STATOVR-01"] == "not_applicable"
    assert statuses["SM-PROG-01"] == statuses["SM-PROG-02"] == statuses["SM-QUEUE-01"] == statuses["SM-QUEUE-02"] == "pass"
    runas = next(item for item in before["findings"] if item["id"] == "SM-RUNAS-01")
    assert runas["expected"] == {"user": "mailnull", "group": "mailnull"}
    # the package as installed: nothing differs from the RPM database
    assert host.file("/root/rpm-verify-before.txt").content_string.strip() == ""
    assert before["package"]["entries"] == [] and before["package"]["unexplained"] == []


def test_check_mode_promised_exactly_what_the_real_run_changed(host):
    check = _recorded(host, "harden-check.json")
    real = _recorded(host, "harden-real.json")
    assert check["changed_controls"] == real["changed_controls"]
    assert sorted(check["changed_controls"]) == sorted(set(FAILING_BEFORE) - set(LEFT_BY_HAND))
    assert check["manual"] == real["manual"]
    assert sorted({item["id"] for item in real["manual"]}) == LEFT_BY_HAND
    held = next(item["why"] for item in real["manual"] if item["id"] == "SM-RUNAS-01")
    assert held.startswith("RunAsUser=mailnull left unset: 2 deliveries on this host need root")
    assert "/usr/bin/procmail" in held and "/etc/pki/tls/certs/sendmail.pem" in held
    planned = sorted((s["id"] or "", s["kind"], s["target"]) for s in check["plan"])
    done = sorted((s["id"] or "", s["kind"], s["target"]) for s in real["plan"] if s["changed"])
    assert planned == done


def test_the_hardened_host_meets_the_baseline_but_runasuser(host):
    drift = _drift(host)
    assert _failing(drift) == LEFT_BY_HAND
    assert not host.file("/etc/mail/sendmail.cf").contains("^O RunAsUser=")
    queue = host.file("/var/spool/mqueue")
    assert (queue.user, queue.group, oct(queue.mode)) == ("root", "mail", "0o700")


def test_info_names_setreuid_and_the_alternative(host):
    info = host.ansible("mailsec.sendmail.sendmail_info", "", check=True, become=True)
    assert info["os_family"] == "RedHat"
    assert info["drop_method"] == "setreuid" and info["has_setreuid"] and not info["uses_seteuid"]
    assert info["alternatives"] == {"link": "/etc/alternatives/mta", "target": "/usr/sbin/sendmail.sendmail"}
    assert info["binary"]["resolved"] == "/usr/sbin/sendmail.sendmail"


def test_rpm_verify_shows_exactly_the_intended_differences(host):
    verify = host.run("rpm -V sendmail")
    assert verify.rc == 1, verify.stderr
    package = _drift(host)["package"]
    assert package["unexplained"] == [], package["entries"]
    changed = {entry["path"]: [word for word in entry["changed"] if word in ("mode", "owner", "group")]
               for entry in package["entries"] if entry["kind"] == "intended"}
    assert changed == INTENDED
    assert package["update_undoes"] == ["SM-FILE-07"]
    # for the record: what rpm itself prints
    host.run(f"printf '%s\\n' {json.dumps(verify.stdout)} > /root/rpm-verify-after.txt")


def _deliver(host, user: str) -> str:
    subject = f"el9-{uuid.uuid4().hex[:12]}"
    host.run_expect([0], f"printf 'Subject: {subject}\\n\\nlab\\n' | runuser -u bob -- /usr/sbin/sendmail {user}")
    return subject


def _arrived(host, user: str, subject: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.run(f"grep -qx 'Subject: {subject}' /var/spool/mail/{user}").rc == 0:
            return True
        time.sleep(0.5)
    return False


def test_mail_flows_through_both_units(host):
    assert host.service("sendmail").is_running and host.service("sm-client").is_running
    # submitted by an ordinary user: the MSP hands it to the MTA, which delivers it
    assert _arrived(host, "alice", _deliver(host, "alice"))
    # with the MTA down the MSP queues it in the client queue; sm-client's queue runner sends it once the MTA is back
    host.run_expect([0], "systemctl stop sendmail.service")
    try:
        subject = _deliver(host, "alice")
        assert host.run("ls /var/spool/clientmqueue | grep -c '^qf'").stdout.strip() != "0"
    finally:
        host.run_expect([0], "systemctl start sendmail.service")
    host.run_expect([0], "systemctl restart sm-client.service")
    assert _arrived(host, "alice", subject)
    runner = host.run("ps -o user= -p $(systemctl show -p MainPID --value sm-client)").stdout.split()
    assert runner == ["smmsp"]


def test_the_dnf_action_puts_back_what_an_update_undoes(host):
    action = host.file("/etc/dnf/plugins/post-transaction-actions.d/mailsec-sendmail.action")
    lines = [line for line in action.content_string.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    package, state, command = lines[0].split(":", 2)
    assert (package, state) == ("sendmail", "in")
    # what an update does to the files' owners and modes
    host.run_expect([0], "rpm --setperms sendmail && rpm --setugids sendmail")
    assert _failing(_drift(host)) == ["SM-RUNAS-01", "SM-RUNAS-02", "SM-FILE-07"]
    # what DNF's plugin runs after the transaction
    host.run_expect([0], command)
    assert _failing(_drift(host)) == LEFT_BY_HAND


@pytest.mark.parametrize("check", [True, False])
def test_undo_gives_the_package_its_own_owners_and_modes_back(host, check):
    undone = host.ansible("mailsec.sendmail.sendmail_harden", "undo=true", check=check, become=True)
    assert undone["changed"], undone.get("msg")
    if check:
        return
    host.run_expect([0], "systemctl restart sendmail.service")
    package = _drift(host)["package"]
    # configuration files hold their old text again, with new times: nothing else differs from the package
    assert [entry for entry in package["entries"] if entry["kind"] not in ("timestamp", "configuration")] == []
    assert host.service("sendmail").is_running
    assert _arrived(host, "alice", _deliver(host, "alice"))
