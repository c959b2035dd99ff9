"""bullseye (Debian 11, sendmail 8.15.2) hosts start on both backends, answer SMTP, take the lab
key and deliver locally. One stock host per backend, started once for the whole module."""
from __future__ import annotations

import smtplib
import time
import uuid

import pytest
from conftest import ssh, started_each

from mailsec_lab import hosts

HOSTS = {"light": "bx-light", "systemd": "bx-sd"}


@pytest.fixture(scope="module")
def bullseye_hosts(lab_state):
    yield from started_each(HOSTS, "bullseye:stock:{key}")


def _ssh(host: hosts.Host, command: str) -> str:
    return ssh(host, command).stdout


@pytest.mark.parametrize("backend", HOSTS)
def test_banner_names_sendmail_8_15_2(bullseye_hosts, backend):
    host = bullseye_hosts[backend]
    smtp = smtplib.SMTP(timeout=20, local_hostname="controller.lab.test")
    try:
        code, banner = smtp.connect(host.address, 25)
    finally:
        smtp.close()
    assert code == 220
    assert banner.decode().startswith(f"{host.fqdn} ESMTP Sendmail 8.15.2/8.15.2/Debian-")


@pytest.mark.parametrize("backend", HOSTS)
def test_ssh_and_local_delivery(bullseye_hosts, backend):
    host = bullseye_hosts[backend]
    assert _ssh(host, "cat /etc/debian_version").startswith("11.")
    subject = f"bullseye-{uuid.uuid4().hex[:12]}"
    _ssh(host, f"printf 'Subject: {subject}\\n\\nhi\\n' | sendmail alice")
    deadline = time.monotonic() + 30
    while _ssh(host, f"grep -cx 'Subject: {subject}' /var/mail/alice; true").strip() != "1":
        assert time.monotonic() < deadline, f"no mail in /var/mail/alice on {host.name} after 30 s"
        time.sleep(0.5)
