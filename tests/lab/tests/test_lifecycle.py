"""Lab hosts start, keep their state across a restart, and leave nothing behind when destroyed."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import LAB_DIR, lab, lab_processes

from mailsec_lab import hosts


def _answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


def _ssh(host: hosts.Host, command: str) -> str:
    return subprocess.run(hosts.ssh_command(host, command), capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL).stdout


def test_up_ls_down_leaves_no_process_mount_or_listener(fresh_lab):
    lab("up", "lc-a", "lc-b:trixie:legacy")
    listed = lab("ls").stdout
    assert "lc-a" in listed and "lc-b" in listed and listed.count("running") == 2
    a, b = hosts.load("lc-a"), hosts.load("lc-b")
    assert a.address != b.address and a.address.startswith("127.") and b.address.startswith("127.")
    assert lab_processes(fresh_lab)
    lab("down")
    assert lab_processes(fresh_lab) == []
    assert str(fresh_lab) not in open("/proc/self/mountinfo").read()
    for h in (a, b):
        assert not _answers(h.address, 22) and not _answers(h.address, 25)
    assert "running" not in lab("ls").stdout


def test_inventory_names_every_host_with_its_groups(fresh_lab):
    lab("up", "inv-a", "inv-b:bookworm:legacy")
    inventory = json.loads((fresh_lab / "inventory.yml").read_text().split("\n", 1)[1])
    group = inventory["all"]["children"]["lab"]
    assert set(group["hosts"]) == {"inv-a", "inv-b"}
    assert set(group["children"]["legacy"]["hosts"]) == {"inv-b"}
    assert group["hosts"]["inv-a"]["ansible_host"] == hosts.load("inv-a").address


def test_a_killed_run_is_swept_by_the_next_down(fresh_lab):
    """`up` killed while its host boots, and a host whose record is lost: `down` kills both."""
    env = dict(os.environ, PYTHONPATH=str(LAB_DIR))
    proc = subprocess.Popen([sys.executable, "-m", "mailsec_lab", "up", "kill-a", "kill-b"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(lab_processes(fresh_lab)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (fresh_lab / "hosts/kill-b/host.json").unlink(missing_ok=True)  # its record is gone too
    assert lab_processes(fresh_lab)
    lab("down")
    assert lab_processes(fresh_lab) == []


def test_host_state_survives_stop_and_start(fresh_lab):
    lab("up", "keep")
    host = hosts.load("keep")
    _ssh(host, "echo kept > /root/marker")
    lab("stop", "keep")
    assert not hosts.load("keep").running()
    lab("up", "keep")
    assert _ssh(hosts.load("keep"), "cat /root/marker").strip() == "kept"


def test_legacy_profile_breaks_what_it_says(fresh_lab):
    lab("up", "old:bookworm:legacy")
    out = _ssh(hosts.load("old"), "stat -c '%a %U:%G %n' /usr/libexec/sendmail/sendmail /var/spool/mqueue "
                                  "/var/spool/mqueue-client /etc/mail/sendmail.cf /etc/aliases; "
                                  "grep -c GroupWritableAliasFile /etc/mail/sendmail.cf /etc/mail/sendmail.mc")
    assert out.splitlines() == [
        "6755 root:smmsp /usr/libexec/sendmail/sendmail",
        "777 root:smmsp /var/spool/mqueue",
        "777 root:smmsp /var/spool/mqueue-client",
        "664 root:smmsp /etc/mail/sendmail.cf",
        "644 alice:alice /etc/aliases",
        "/etc/mail/sendmail.cf:1",
        "/etc/mail/sendmail.mc:1",
    ]


@pytest.mark.parametrize("spec, message", [
    ("bad_name!", "letters, digits and dashes"),
    ("x1:sid", "unknown"),
    ("x2:bookworm:weird", "unknown"),
    ("x3:bookworm:stock:light:setreuid", "needs the systemd backend"),
    ("x4:bookworm:stock:systemd:setreuid,nosuchcall", "unknown system call or group nosuchcall"),
    ("x5:bookworm:stock:light::nosuchnetwork", "network unknown"),
])
def test_bad_input_is_refused_and_creates_nothing(fresh_lab, spec, message):
    result = lab("up", spec, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (fresh_lab / "hosts" / spec.split(":")[0]).exists()


def test_only_loopback_addresses(fresh_lab):
    with pytest.raises(SystemExit, match="not a free loopback address"):
        hosts.create("outside", "bookworm", "stock", "light", address="192.0.2.10")
