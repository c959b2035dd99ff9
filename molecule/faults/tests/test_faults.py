"""After a SIGKILL right after any phase the host is consistent (sendmail accepts its configuration,
runs and delivers) with exactly that phase's work done, and the next run completes the killed one from
its journal. A run killed inside the restart leaves the MTA stopped: the next run has it started again."""
from __future__ import annotations

import json
import os
import re
import smtplib
import time
import uuid

import yaml

BINARY = "/usr/libexec/sendmail/sendmail"
# The engine's phases, in the order they run.
PHASES = ("maps", "paths", "config", "handover", "pins")
JOURNAL = "/var/lib/mailsec-sendmail/journal.json"
RESTART_MARK = "/var/lib/mailsec-sendmail/restart-pending"


def phase(host) -> str:
    return host.backend.host.split("-", 1)[1]


def address(host) -> str:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e["address"] for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)


def run_as_user(host) -> bool:
    return bool(re.search(r"^O RunAsUser=smmta:smmsp$", host.file("/etc/mail/sendmail.cf").content_string, re.M))


def killed_in_restart(host) -> bool:
    return phase(host) == "restart"


def journal(host) -> dict:
    return json.loads(host.file(JOURNAL).content_string)


def test_exactly_the_phases_up_to_the_kill_were_done(host):
    done = PHASES if killed_in_restart(host) else PHASES[:PHASES.index(phase(host)) + 1]
    aliases_db = host.file("/etc/mail/aliases.db").mtime >= host.file("/etc/aliases").mtime
    assert aliases_db is ("maps" in done)
    assert (host.file("/etc/mail").user == "root") is ("paths" in done)
    assert (not host.file(BINARY).mode & 0o4000) is ("paths" in done)
    assert run_as_user(host) is ("config" in done)
    queue = host.file("/var/spool/mqueue")
    assert ((queue.user, queue.mode & 0o7777) == ("smmta", 0o700)) is ("handover" in done)
    pins = host.check_output("dpkg-statoverride --list")
    assert (f"root smmsp 2755 {BINARY}" in pins) is ("pins" in done)


def wait_running(host) -> None:
    deadline = time.monotonic() + 30
    while host.run("kill -0 $(head -n 1 /run/sendmail/mta/sendmail.pid)").rc != 0 and time.monotonic() < deadline:
        time.sleep(0.5)


def deliver(host, tag: str) -> None:
    """sendmail accepts its installed configuration, and the running daemon delivers a message
    submitted on the host and one sent over SMTP."""
    check = host.run("sendmail -bv root")
    assert check.rc == 0, check.stdout + check.stderr
    wait_running(host)
    subject = f"{tag}-{uuid.uuid4().hex[:10]}"
    sent = host.run(f"printf 'Subject: {subject}\\n\\nx\\n' | sendmail -f tester alice")
    assert sent.rc == 0, sent.stderr
    with smtplib.SMTP(address(host), 25, timeout=20) as smtp:
        smtp.ehlo("controller.lab.test")
        fqdn = host.check_output("hostname") + ".lab.test"
        smtp.sendmail(f"tester@{fqdn}", [f"alice@{fqdn}"], f"Subject: {subject}-smtp\r\n\r\nx\r\n")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        box = host.run("cat /var/mail/alice").stdout
        if f"Subject: {subject}\n" in box and f"Subject: {subject}-smtp\n" in box:
            return
        time.sleep(0.5)
    raise AssertionError(f"{subject} was not delivered twice after the kill after {phase(host)}")


def test_the_journal_shows_how_far_the_run_came(host):
    """The journal of a killed run is unfinished, every step of the phases it ended done; that of the run whose
    restart was killed is finished, and the restart it owes is marked."""
    found = journal(host)
    if killed_in_restart(host):
        assert found["status"] == "done" and host.file(RESTART_MARK).exists
        return
    assert found["status"] == "applying" and found["daemon"] == {"running": True}
    ended = PHASES[:PHASES.index(phase(host)) + 1]
    assert {entry["state"] for entry in found["steps"] if entry["step"]["phase"] in ended} == {"done"}
    assert {entry["state"] for entry in found["steps"] if entry["step"]["phase"] not in ended} <= {"planned"}


def test_the_host_is_left_working(host):
    """The daemon that ran before the kill still runs and delivers; what is installed is accepted. Killed inside the
    restart, the daemon is stopped, and what is installed is accepted."""
    if killed_in_restart(host):
        assert host.run("sendmail -bv root").rc == 0 and host.run("pgrep -x sendmail-mta").rc == 1
        return
    deliver(host, "after-kill")


def restart(host) -> None:
    """What the role's handlers do: validate, restart, wait for the daemon, take the mark of the owed restart away."""
    host.run_test("sendmail -bv root")
    host.run_test("/etc/init.d/sendmail restart")
    wait_running(host)
    host.run_test(f"rm -f {RESTART_MARK}")


def test_the_next_run_converges_and_asks_for_the_restart_the_kill_prevented(host):
    again = host.ansible("mailsec.sendmail.sendmail_harden", "rebuild_maps=true", check=False, become=True)
    assert again.get("failed") is not True, again.get("msg")
    # STARTTLS offered (SM-TLS-03) is left by hand on these hosts, where no certificate and key are named.
    assert [item["id"] for item in again["drift_after"]] == ["SM-TLS-03"]
    assert run_as_user(host)
    # The daemon still runs the configuration of before the kill, whether this run or the killed one installed the new
    # one; killed inside the restart, it is stopped, and the restart owed is marked: it is started.
    assert again["restart_needed"] is True and again["daemon"]["restart_owed"] is killed_in_restart(host)
    if killed_in_restart(host):
        assert again["daemon"]["running"] is False and "completed" not in again
        assert again["msg"].endswith("and is stopped: start it.")
    else:
        assert again["completed"]["how"] == "completed"
        assert again["completed"]["phases_done"] == list(PHASES[:PHASES.index(phase(host))])
        assert "this run completed one that stopped part-way" in again["msg"]
        finished = journal(host)
        assert finished["status"] == "done" and any(entry.get("inherited") for entry in finished["steps"])
    if killed_in_restart(host) or PHASES.index(phase(host)) >= PHASES.index("config"):
        assert again["cf_changed"] == []
    restart(host)
    deliver(host, "converged")
    last = host.ansible("mailsec.sendmail.sendmail_harden", "rebuild_maps=true", check=False, become=True)
    assert last["changed"] is False and last["plan"] == [] and last["restart_needed"] is False
