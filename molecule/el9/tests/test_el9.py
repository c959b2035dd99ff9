"""The collection on EL9 hosts: judged with Red Hat's values, hardened, mail flowing through both units, rpm -V
showing exactly the hardening's changes, an update's undoing put back by the DNF action, and undo.

harden-el9 is the package as installed; on harden-el9-runas the administrator did what the role's README says
RunAsUser needs there (a set-user-id root procmail, a readable certificate)."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid

import pytest

# Red Hat's values: RunAsUser mailnull, smrsh already there, the MTA on loopback, STARTTLS configured.
COMMON_FAILING = ["SM-FILE-07", "SM-SAFE-02", "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03", "SM-FWD-01", "SM-DOS-01", "SM-TLS-05"]
EXPECT = {
    "harden-el9": {
        "failing_before": ["SM-RUNAS-01", "SM-RUNAS-02"] + COMMON_FAILING,
        # RunAsUser stays unset, with one message: procmail (0755, no set-id bit) becomes the recipient only when a
        # root daemon runs it, and the package's certificate is root's alone (0600).
        "left_by_hand": ["SM-RUNAS-01", "SM-RUNAS-02"],
        "taken": [],
        "queue": ("root", "mail"),
        # The package's files whose owner, group or mode the hardening sets, as rpm -V names them afterwards: the
        # submission program's statistics, no longer group-writable (a ghost: an update leaves it as it is).
        "intended": {"/var/spool/clientmqueue/sm-client.st": ["mode"]},
        "update_undoes": [],
        "fail_after_update": [],
    },
    "harden-el9-runas": {
        "failing_before": ["SM-RUNAS-01"] + COMMON_FAILING,
        "left_by_hand": [],
        # RunAsUser's fix takes the MTA queue and the STARTTLS key (Red Hat's own, in /etc/pki/tls/private) with it
        "taken": ["SM-QUEUE-01", "SM-TLS-01"],
        "queue": ("mailnull", "mail"),
        "intended": {"/var/spool/mqueue": ["owner"], "/var/log/mail/statistics": ["owner", "group"],
                     "/var/spool/clientmqueue/sm-client.st": ["mode"]},
        # the queue is SM-QUEUE-01's; the statistics file is one SM-RUNAS-01 hands to mailnull
        "update_undoes": ["SM-QUEUE-01", "SM-RUNAS-01"],
        # the queue goes back to root, which the MTA running as mailnull can no longer use; the statistics file goes
        # back to root too, which SM-FILE-07 allows, but the MTA can no longer write it
        "fail_after_update": ["SM-QUEUE-01"],
    },
}


@pytest.fixture
def expect(host) -> dict:
    return EXPECT[host.backend.host]


def _drift(host) -> dict:
    return host.ansible("mailsec.sendmail.sendmail_drift", "", check=True, become=True)


def _failing(drift: dict) -> list:
    return [item["id"] for item in drift["findings"] if item["status"] in ("fail", "error")]


def _recorded(host, name: str) -> dict:
    return json.loads(host.file(f"/root/{name}").content_string)


def test_the_host_was_judged_with_red_hats_values(host, expect):
    before = _recorded(host, "drift-before.json")
    assert before["os_family"] == "RedHat"
    assert _failing(before) == expect["failing_before"]
    statuses = {item["id"]: item["status"] for item in before["findings"]}
    # dpkg's statoverrides have no meaning on an rpm host; smrsh and the queues are judged where Red Hat has them
    assert statuses["SM-STATOVR-01"] == "not_applicable"
    assert statuses["SM-PROG-01"] == statuses["SM-PROG-02"] == statuses["SM-QUEUE-01"] == statuses["SM-QUEUE-02"] == "pass"
    runas = next(item for item in before["findings"] if item["id"] == "SM-RUNAS-01")
    assert runas["expected"] == "RunAsUser=mailnull:mailnull"
    # the package as installed: rpm -V finds nothing that differs from the RPM database
    assert before["package"]["manager"] == "rpm" and before["package"]["error"] is None
    assert before["package"]["entries"] == [] and before["package"]["unexplained"] == []


def test_check_mode_promised_exactly_what_the_real_run_changed(host, expect):
    check = _recorded(host, "harden-check.json")
    real = _recorded(host, "harden-real.json")
    assert check["changed_controls"] == real["changed_controls"]
    assert sorted(real["changed_controls"]) == sorted(set(expect["failing_before"] + expect["taken"]) - set(expect["left_by_hand"]))
    assert check["manual"] == real["manual"]
    assert sorted(real["manual"]) == expect["left_by_hand"]
    planned = sorted((s["id"] or "", s["kind"], s["target"]) for s in check["plan"])
    done = sorted((s["id"] or "", s["kind"], s["target"]) for s in real["plan"] if s["changed"])
    assert planned == done
    if expect["left_by_hand"]:
        held = next(item["why"] for item in real["not_done"] if item["id"] == "SM-RUNAS-01")
        assert held.startswith("RunAsUser=mailnull left unset: 2 deliveries on this host need root")
        assert "/usr/bin/procmail" in held and "/etc/pki/tls/certs/sendmail.pem" in held


def test_the_hardened_host_meets_the_baseline(host, expect):
    assert _failing(_drift(host)) == expect["left_by_hand"]
    runs_as = host.file("/etc/mail/sendmail.cf").contains("^O RunAsUser=mailnull:mailnull$")
    assert runs_as == (not expect["left_by_hand"])
    queue = host.file("/var/spool/mqueue")
    assert (queue.user, queue.group, oct(queue.mode)) == (*expect["queue"], "0o700")


def test_info_names_setreuid_and_the_alternative(host):
    info = host.ansible("mailsec.sendmail.sendmail_info", "", check=True, become=True)
    assert info["os_family"] == "RedHat"
    assert info["drop_method"] == "setreuid" and info["has_setreuid"] and not info["uses_seteuid"]
    assert info["alternatives"] == {"link": "/etc/alternatives/mta", "target": "/usr/sbin/sendmail.sendmail"}
    assert info["binary"]["resolved"] == "/usr/sbin/sendmail.sendmail"


def test_rpm_verify_shows_exactly_the_intended_differences(host, expect):
    verify = host.run("rpm -V sendmail")
    assert verify.rc == 1, verify.stderr
    package = _drift(host)["package"]
    assert package["unexplained"] == [], package["entries"]
    changed = {entry["path"]: [word for word in entry["changed"] if word in ("mode", "owner", "group")]
               for entry in package["entries"] if entry["kind"] == "intended"}
    assert changed == expect["intended"]
    # the rest: the .mc and .cf the hardening rebuilt, configuration files the site may edit
    others = {entry["path"]: entry["kind"] for entry in package["entries"] if entry["kind"] != "intended"}
    assert others == {"/etc/mail/sendmail.cf": "configuration", "/etc/mail/sendmail.mc": "configuration"}
    assert package["update_undoes"] == expect["update_undoes"]
    # the hardening's own account: the same, in check mode as for real
    for name in ("harden-check.json", "harden-real.json"):
        undone = _recorded(host, name)["package_updates"]["undoes"]
        assert sorted({item["id"] for item in undone}) == expect["update_undoes"], name


def _submit(host, user: str) -> str:
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
    units = host.run("systemctl is-active sendmail.service sm-client.service")
    assert units.stdout.split() == ["active", "active"], host.run("systemctl status sm-client.service --no-pager").stdout
    # submitted by an ordinary user: the MSP hands it to the MTA, which delivers it
    assert _arrived(host, "alice", _submit(host, "alice"))
    # with the MTA down the MSP queues it in the client queue; sm-client's queue runner sends it once the MTA is back
    host.run_expect([0], "systemctl stop sendmail.service")
    try:
        subject = _submit(host, "alice")
        assert host.run("ls /var/spool/clientmqueue | grep -c '^qf'").stdout.strip() != "0"
    finally:
        host.run_expect([0], "systemctl start sendmail.service")
    host.run_expect([0], "systemctl restart sm-client.service")
    assert _arrived(host, "alice", subject)
    runner = host.run("ps -o user= -p $(systemctl show -p MainPID --value sm-client)").stdout.split()
    assert runner == ["smmsp"]


def test_the_dnf_action_puts_back_what_an_update_undoes(host, expect):
    action = host.file("/etc/dnf/plugins/post-transaction-actions.d/mailsec-sendmail.action")
    lines = [line for line in action.content_string.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    package, state, command = lines[0].split(":", 2)
    assert (package, state) == ("sendmail", "in")
    # what an update does to the owners and modes of the package's files
    host.run_expect([0], "rpm --setugids sendmail && rpm --setperms sendmail")
    assert _failing(_drift(host)) == expect["left_by_hand"] + expect["fail_after_update"]
    # what DNF's plugin runs after the transaction
    host.run_expect([0], command)
    assert _failing(_drift(host)) == expect["left_by_hand"]


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
    assert _arrived(host, "alice", _submit(host, "alice"))


KILLER = os.path.join(os.path.dirname(__file__), "..", "..", "faults", "files", "kill_after_phase")
# The faults scenario's kill, after the phase that installs the new sendmail.cf.
KILL_PLAY = """\
- name: Harden, killed by SIGKILL right after the config phase
  hosts: all
  gather_facts: false
  tasks:
    - name: Copy the killer beside the module's Python
      ansible.builtin.copy:
        src: {killer}/
        dest: /root/kill_after_phase/
        mode: "0700"
    - name: Harden, killed after the config phase
      mailsec.sendmail.sendmail_harden:
      environment:
        PYTHONPATH: /root/kill_after_phase
        MAILSEC_KILL_AFTER_PHASE: config
      register: killed
      failed_when: killed.rc | default(0) != 137
"""


def _daemon_runs(host) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if host.run("kill -0 $(head -n 1 /run/sendmail.pid)").rc == 0:
            return True
        time.sleep(0.5)
    return False


def test_a_run_killed_after_its_config_phase_leaves_a_working_host_and_the_next_completes_it(host, expect):
    """After the undo above: the faults scenario's kill on an EL9 host. The daemon that ran still runs and delivers,
    and the next run completes the killed one from its journal. On the stock host the .cf installed is accepted too.
    On the host made ready for RunAsUser it names mailnull while the MTA queue stays Red Hat's root:mail 0700 until
    the handover phase: a sendmail started with it could not enter the queue until the next run completes."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as play:
        play.write(KILL_PLAY.format(killer=os.path.abspath(KILLER)))
        play.flush()
        ran = subprocess.run(["ansible-playbook", "-i", host.backend.ansible_runner.inventory_file, "--limit", host.backend.host,
                              play.name], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    journal = json.loads(host.file("/var/lib/mailsec-sendmail/journal.json").content_string)
    # killed as the journal was about to say the config phase ended: every step of it is done
    assert journal["status"] == "applying" and "config" not in journal["phases_done"]
    assert {entry["state"] for entry in journal["steps"] if entry["step"]["phase"] == "config"} == {"done"}
    if not expect["taken"]:
        assert host.run("/usr/sbin/sendmail -bv root").rc == 0
    assert _daemon_runs(host) and _arrived(host, "alice", _submit(host, "alice"))
    again = host.ansible("mailsec.sendmail.sendmail_harden", "", check=False, become=True)
    assert again.get("failed") is not True, again.get("msg")
    assert again["completed"]["how"] == "completed" and again["completed"]["phases_done"] == journal["phases_done"]
    assert [item["id"] for item in again["drift_after"]] == expect["left_by_hand"]
    host.run_expect([0], "systemctl restart sendmail.service")
    assert _daemon_runs(host) and _arrived(host, "alice", _submit(host, "alice"))
    last = host.ansible("mailsec.sendmail.sendmail_harden", "", check=False, become=True)
    assert last["changed"] is False and last["plan"] == []
