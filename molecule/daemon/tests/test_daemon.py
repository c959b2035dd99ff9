"""A daemon the administrator stopped stays stopped through the hardening and its idempotence run; the
configuration it finds at its next start is the hardened one, which it accepts, runs and delivers with,
and a run after that start changes nothing and leaves it running."""
from __future__ import annotations

import os
import smtplib
import time
import uuid

import yaml

PID_FILE = "/run/sendmail/mta/sendmail.pid"


def address(host) -> str:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e["address"] for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)


def running(host) -> bool:
    return host.run(f"kill -0 $(head -n 1 {PID_FILE})").rc == 0


def test_the_stopped_daemon_was_not_started(host):
    assert not running(host)
    assert host.run("pgrep -x sendmail-mta").rc == 1


def test_the_hardened_configuration_is_installed_and_accepted(host):
    assert "\nO RunAsUser=smmta:smmsp\n" in host.file("/etc/mail/sendmail.cf").content_string
    check = host.run("sendmail -bv root")
    assert check.rc == 0, check.stdout + check.stderr


def test_started_by_hand_it_runs_the_new_configuration_and_delivers(host):
    host.run_test("/etc/init.d/sendmail start")
    deadline = time.monotonic() + 30
    while not running(host) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running(host)
    subject = f"after-start-{uuid.uuid4().hex[:10]}"
    fqdn = host.check_output("hostname") + ".lab.test"
    with smtplib.SMTP(address(host), 25, timeout=20) as smtp:
        smtp.ehlo("controller.lab.test")
        smtp.sendmail(f"tester@{fqdn}", [f"alice@{fqdn}"], f"Subject: {subject}\r\n\r\nx\r\n")
        # The SMTP server of this connection runs as the RunAsUser the hardening set.
        servers = [line.split() for line in host.check_output("ps -eo user:16,ruser:16,args").splitlines()
                   if "sendmail: MTA: server" in line]
    assert servers and all(fields[0] == fields[1] == "smmta" for fields in servers), servers
    deadline = time.monotonic() + 60
    while f"Subject: {subject}\n" not in host.run("cat /var/mail/alice").stdout:
        assert time.monotonic() < deadline, f"{subject} was not delivered"
        time.sleep(0.5)


def test_the_next_run_changes_nothing_and_leaves_it_running(host):
    again = host.ansible("mailsec.sendmail.sendmail_harden", check=False, become=True)
    assert again.get("failed") is not True, again.get("msg")
    assert again["changed"] is False and again["restart_needed"] is False and again["daemon"]["running"] is True
    assert running(host)
