"""The lab's own tests run against a lab state folder of their own, swept before and after."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAB_DIR = Path(__file__).resolve().parent.parent


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mailsec_lab", *args], capture_output=True, text=True,
                          check=check, env=dict(os.environ, PYTHONPATH=str(LAB_DIR)), stdin=subprocess.DEVNULL)


def started(specs: dict):
    """Start hosts (name -> spec without the name) for a test module; yields name -> Host; they go down after."""
    from mailsec_lab import hosts

    try:
        result = lab("up", *(f"{name}:{spec}" for name, spec in specs.items()), check=False)
        assert result.returncode == 0, result.stderr
        yield {name: hosts.load(name) for name in specs}
    finally:
        lab("down", "--missing-ok", *specs)


def ssh(host, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """A command on a lab host, over the lab's SSH."""
    from mailsec_lab import hosts

    return subprocess.run(hosts.ssh_command(host, command), capture_output=True, text=True, check=check,
                          stdin=subprocess.DEVNULL)


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
