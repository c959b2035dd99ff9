"""The lab's own tests run against a lab state folder of their own, swept before and after."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailsec_lab.testing import LAB_DIR, lab, ssh, started, started_each

__all__ = ["LAB_DIR", "lab", "lab_processes", "ssh", "started", "started_each"]


@pytest.fixture(scope="session", autouse=True)
def lab_state():
    """MAILSEC_LAB_STATE comes from the Makefile; `down` first clears what a killed run left."""
    state = Path(os.environ.setdefault("MAILSEC_LAB_STATE", "/var/lib/mailsec-lab-test"))
    lab("down")
    yield state
    lab("down")


@pytest.fixture
def fresh_lab(lab_state):
    yield lab_state
    lab("down")


def lab_processes(state: Path) -> list[tuple[int, str]]:
    """Every process on the machine that runs a host of this lab state folder: its boot (light
    hosts) or its systemd-nspawn; what they start dies with them."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(state).encode() in cmdline and (b"mailsec_lab.boot" in cmdline or b"systemd-nspawn" in cmdline):
            found.append((int(proc.name), cmdline.replace(b"\0", b" ").decode()))
    return found
