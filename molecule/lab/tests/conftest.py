"""Helpers for the lab scenario's testinfra tests: talk to a lab host as a mail client would."""
from __future__ import annotations

import os
import smtplib
import time
import uuid

import pytest
import yaml


@pytest.fixture
def lab_vars(host):
    """The host's inventory variables plus what the lab said of it when Molecule created it."""
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        entry = next(e for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)
    lab = {f"lab_{key}": entry[key] for key in ("fqdn", "release", "profile", "backend")}
    return {**host.ansible.get_variables(), **lab}


def unique_subject(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def smtp_send(address: str, fqdn: str, rcpt: str, subject: str) -> None:
    """Over SMTP to the host's own address, from a sender of its own domain (sendmail checks it)."""
    with smtplib.SMTP(address, 25, timeout=20) as smtp:
        smtp.ehlo("controller.lab.test")
        smtp.sendmail(f"tester@{fqdn}", [f"{rcpt}@{fqdn}"], f"From: tester@{fqdn}\r\nSubject: {subject}\r\n\r\nlab\r\n")


def wait_in_mailbox(host, user: str, subject: str, timeout: float = 60.0) -> int:
    """How many times the subject is in the user's mailbox, once it is there at all."""
    deadline = time.monotonic() + timeout
    while True:
        found = host.run(f"grep -c -F 'Subject: {subject}' /var/mail/{user}")
        count = int(found.stdout.strip() or 0)
        if count or time.monotonic() > deadline:
            return count
        time.sleep(0.5)
