"""The lab hosts are real sendmail hosts: they listen, accept SMTP and deliver."""
from __future__ import annotations

from conftest import smtp_send, unique_subject, wait_in_mailbox


def test_mta_runs_as_root_listener(host):
    # The daemon sets its process title; its command name is sendmail-mta on Debian.
    listeners = [p for p in host.process.filter() if p.args.startswith("sendmail: MTA: accepting connections")]
    assert len(listeners) == 1
    assert listeners[0].user == "root"


def test_smtp_to_host_address_is_delivered(host, lab_vars):
    subject = unique_subject("smtp")
    smtp_send(lab_vars["ansible_host"], lab_vars["lab_fqdn"], "alice", subject)
    assert wait_in_mailbox(host, "alice", subject) == 1


def test_local_submission_through_msp_is_delivered(host):
    subject = unique_subject("msp")
    sent = host.run(f"printf 'To: alice\\nSubject: {subject}\\n\\nlab\\n' | su -s /bin/sh bob -c '/usr/sbin/sendmail -t'")
    assert sent.rc == 0, sent.stderr
    assert wait_in_mailbox(host, "alice", subject) == 1


def test_host_has_its_own_name_and_address(host, lab_vars):
    assert host.check_output("hostname -f") == lab_vars["lab_fqdn"]
    assert host.file("/etc/mailname").content_string.strip() == lab_vars["lab_fqdn"]
    assert f"Addr={lab_vars['ansible_host']}" in host.file("/etc/mail/sendmail.cf").content_string


def test_systemd_backend_runs_sendmail_as_a_service(host, lab_vars):
    is_systemd = host.file("/proc/1/comm").content_string.strip() == "systemd"
    assert is_systemd == (lab_vars["lab_backend"] == "systemd")
    if is_systemd:
        assert host.service("sendmail").is_running
