"""Helpers for the hardening scenarios' testinfra tests."""
from __future__ import annotations

import os
import smtplib
import time
import uuid

import pytest
import yaml


@pytest.fixture
def lab(host):
    """What the lab said of the host when Molecule created it (address, fqdn, release, profile)."""
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)


def unique_subject(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def smtp_send(address: str, fqdn: str, rcpt: str, subject: str) -> None:
    with smtplib.SMTP(address, 25, timeout=20) as smtp:
        smtp.ehlo("controller.lab.test")
        smtp.sendmail(f"tester@{fqdn}", [f"{rcpt}@{fqdn}"], f"From: tester@{fqdn}\r\nSubject: {subject}\r\n\r\nlab\r\n")


def mailbox_count(host, user: str, pattern: str) -> int:
    out = host.run(f"grep -c -E '^Subject: ({pattern})$' /var/mail/{user}").stdout.strip()
    return int(out or 0)


def wait_for(predicate, timeout: float = 60.0, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
