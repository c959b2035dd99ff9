"""A host spec's fifth field denies system calls inside a systemd host (systemd-nspawn
--system-call-filter): they fail with EPERM, the rest of the host, sendmail included, works."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from conftest import lab, ssh, started

from mailsec_lab import boot, hosts
from mailsec_lab.cli import _spec

NAME = "sf-deny"
PROBE = """\
import os
for name, call in (("setreuid", lambda: os.setreuid(0, 0)), ("setresuid", lambda: os.setresuid(0, 0, 0))):
    try:
        call()
        print(name, "ok")
    except OSError as err:
        print(name, type(err).__name__, err.errno)
"""


@pytest.mark.parametrize("text, wanted", [
    ("mx1", ("mx1", "bookworm", "stock", "light", [], "shared")),
    ("mx1:trixie", ("mx1", "trixie", "stock", "light", [], "shared")),
    ("mx1:bullseye:legacy:systemd:setreuid,setregid",
     ("mx1", "bullseye", "legacy", "systemd", ["setreuid", "setregid"], "shared")),
    ("mx1:::systemd:setreuid", ("mx1", "bookworm", "stock", "systemd", ["setreuid"], "shared")),
    ("mx1:bookworm:stock:light::shared", ("mx1", "bookworm", "stock", "light", [], "shared")),  # what Molecule joins for no list
    ("mx1:::::own", ("mx1", "bookworm", "stock", "light", [], "own")),
])
def test_spec_fields_and_defaults(text, wanted):
    assert _spec(text) == wanted


def test_spec_with_too_many_fields_is_refused():
    with pytest.raises(SystemExit, match="a host is NAME"):
        _spec("mx1:bookworm:stock:systemd:setreuid:own:more")


def test_nspawn_gets_the_filter_only_when_asked():
    assert not any(a.startswith("--system-call-filter") for a in boot.nspawn_argv(Path("/r"), "mx1", []))
    assert boot.nspawn_argv(Path("/r"), "mx1", ["setreuid", "@clock"])[-1] == "--system-call-filter=~setreuid @clock"


def test_a_host_saved_before_the_field_loads_without_a_filter(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILSEC_LAB_STATE", str(tmp_path))
    (tmp_path / "hosts/old").mkdir(parents=True)
    (tmp_path / "hosts/old/host.json").write_text(json.dumps({
        "name": "old", "release": "bookworm", "profile": "stock", "backend": "light", "address": "127.0.0.9",
        "base": "/nonexistent", "public_key": "ssh-ed25519 AAAA lab", "pid": 0, "pid_start": 0}))
    assert hosts.load("old").deny_syscalls == []
    assert hosts.load("old").network == "shared"


@pytest.fixture(scope="module")
def filtered(lab_state):
    for found in started({NAME: "bookworm:stock:systemd:setreuid"}):
        yield found[NAME]


def _ssh(host: hosts.Host, command: str) -> str:
    return ssh(host, command).stdout


def test_setreuid_is_refused_and_setresuid_works(filtered):
    assert _ssh(filtered, f"python3 -c '{PROBE}'").splitlines() == ["setreuid PermissionError 1", "setresuid ok"]


def test_sendmail_runs_and_delivers_locally(filtered):
    assert _ssh(filtered, "systemctl is-active sendmail").strip() == "active"
    subject = f"filtered-{uuid.uuid4().hex[:12]}"
    _ssh(filtered, f"printf 'Subject: {subject}\\n\\nhi\\n' | sendmail alice")
    deadline = time.monotonic() + 30
    while _ssh(filtered, f"grep -cx 'Subject: {subject}' /var/mail/alice; true").strip() != "1":
        assert time.monotonic() < deadline, "no mail in /var/mail/alice after 30 s"
        time.sleep(0.5)


def test_the_filter_is_recorded_for_tests_to_read(filtered, lab_state):
    assert filtered.deny_syscalls == ["setreuid"]
    inventory = json.loads((lab_state / "inventory.yml").read_text().split("\n", 1)[1])
    assert inventory["all"]["children"]["lab"]["hosts"][NAME]["lab_deny_syscalls"] == ["setreuid"]
    row = next(line.split() for line in lab("ls").stdout.splitlines() if line.startswith(NAME + " "))
    assert row[5:] == ["setreuid", "shared", "running"]
