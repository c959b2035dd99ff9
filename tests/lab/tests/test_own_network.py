"""A host spec's sixth field, network "own": the host runs in a network namespace of its own, made
when it starts and deleted when it stops, and is reached at 198.18.k.2 over a veth pair. A legacy
host's MTA listens on every address there; a stock one keeps Debian's 127.0.0.1, its own loopback,
which the machine cannot reach. One light host of each, started once for the whole module."""
from __future__ import annotations

import json
import re
import smtplib
import subprocess

import pytest
from conftest import lab, lab_processes, ssh, started_each

from mailsec_lab import hosts, netns
from mailsec_lab.profiles import describe

HOSTS = {"legacy": "on-legacy", "stock": "on-stock"}
# From inside a host: the first line its own loopback's port 25 says (bash opens the connection).
BANNER_INSIDE = "exec 3<>/dev/tcp/127.0.0.1/25 && timeout 10 head -n 1 <&3"


@pytest.fixture(scope="module")
def own_hosts(lab_state):
    yield from started_each(HOSTS, "bookworm:{key}:light::own")


def _answers(host: hosts.Host, port: int) -> bool:
    return hosts._port_open(host.address, port, 1.0)


def _route(host: hosts.Host) -> str:
    """The machine's way to the host. (Where no lab route is, this machine's gateway may answer
    any address and port: only a refused connection over the veth says nothing listens.)"""
    return subprocess.run(["ip", "route", "get", host.address], capture_output=True, text=True, check=True).stdout


def _veths() -> set[str]:
    out = subprocess.run(["ip", "-j", "link", "show", "type", "veth"], capture_output=True, text=True, check=True).stdout
    return {link["ifname"] for link in json.loads(out or "[]")}


@pytest.mark.parametrize("profile", HOSTS)
def test_ssh_reaches_the_host_at_its_own_address(own_hosts, profile):
    host = own_hosts[profile]
    assert re.fullmatch(r"198\.18\.\d{1,3}\.2", host.address)
    assert ssh(host, "hostname").stdout.strip() == host.name
    assert host.netns.exists()
    veth = f"{netns.VETH_PREFIX}{netns.number(host.address)}"
    assert veth in _veths()
    assert f" dev {veth} " in _route(host)


@pytest.mark.parametrize("profile", HOSTS)
def test_the_mta_answers_on_the_hosts_own_loopback(own_hosts, profile):
    host = own_hosts[profile]
    assert ssh(host, BANNER_INSIDE).stdout.startswith(f"220 {host.fqdn} ESMTP Sendmail ")


def test_legacy_mta_listens_on_every_address_and_the_msa_on_loopback(own_hosts):
    host = own_hosts["legacy"]
    with smtplib.SMTP(timeout=20, local_hostname="controller.lab.test") as smtp:
        code, banner = smtp.connect(host.address, 25)
    assert code == 220 and banner.decode().startswith(f"{host.fqdn} ESMTP Sendmail "), banner
    assert not _answers(host, 587)
    assert ssh(host, "grep '^O DaemonPortOptions=' /etc/mail/sendmail.cf").stdout.splitlines() == [
        "O DaemonPortOptions=Family=inet,  Name=MTA-v4, Port=smtp",
        "O DaemonPortOptions=Family=inet,  Name=MSP-v4, Port=submission, M=Ea, Addr=127.0.0.1",
    ]
    assert describe("legacy")[-1].startswith("on own-network hosts only: the MTA (port 25) listens on every address")


def test_stock_mta_is_on_its_own_loopback_only_yet_was_ready(own_hosts):
    """`up` returned, so the readiness check passed: it reads the namespace's listening sockets."""
    host = own_hosts["stock"]
    assert not _answers(host, 25)
    assert netns.listening(host.pid, 25)
    assert ssh(host, "grep '^O DaemonPortOptions=' /etc/mail/sendmail.cf").stdout.splitlines() == [
        "O DaemonPortOptions=Family=inet,  Name=MTA-v4, Port=smtp, Addr=127.0.0.1",
        "O DaemonPortOptions=Family=inet,  Name=MSP-v4, Port=submission, M=Ea, Addr=127.0.0.1",
    ]


def test_the_records_name_the_network(own_hosts, lab_state):
    entries = json.loads(lab("up", "--json", *HOSTS.values()).stdout)
    inventory = json.loads((lab_state / "inventory.yml").read_text().split("\n", 1)[1])["all"]["children"]["lab"]
    rows = {line.split()[0]: line.split() for line in lab("ls").stdout.splitlines()}
    for entry in entries:
        host = hosts.load(entry["instance"])
        wanted = ("own", f"/run/netns/mailsec-lab-{netns.number(host.address)}", "127.0.0.1")
        assert (entry["network"], entry["netns"], entry["smtp_address"]) == wanted
        hostvars = inventory["hosts"][host.name]
        assert (hostvars["lab_network"], hostvars["lab_netns"], hostvars["lab_smtp_address"]) == wanted
        assert rows[host.name][-2:] == ["own", "running"]


def test_stop_deletes_the_namespace_and_up_makes_it_again(own_hosts):
    host = own_hosts["stock"]
    lab("stop", host.name)
    assert not host.netns.exists()
    lab("up", host.name)
    assert host.netns.exists()
    assert ssh(hosts.load(host.name), BANNER_INSIDE).stdout.startswith("220 ")


def test_down_leaves_no_namespace_veth_or_process(own_hosts, lab_state):
    lab("down", *HOSTS.values())
    for host in own_hosts.values():
        assert not host.netns.exists()
        assert f"{netns.VETH_PREFIX}{netns.number(host.address)}" not in _veths()
        assert netns.conflict(netns.number(host.address), netns.machine_holds()) is None  # no address, no route
        assert not [p for p in lab_processes(lab_state) if str(host.dir) in p[1]]


@pytest.mark.parametrize("address", ["198.18.0.9", "198.18.300.2", "127.0.0.9"])
def test_an_own_address_is_198_18_k_2(lab_state, address):
    with pytest.raises(SystemExit, match=r"is 198\.18\.k\.2, k from 1 to 254"):
        hosts.create("on-bad", "bookworm", "stock", "light", address=address, network="own")
    assert not (lab_state / "hosts/on-bad").exists()


def test_an_address_the_machine_holds_is_refused_and_skipped(lab_state):
    """The machine has 198.18.k.9 on lo, k being the number a new host would take: that number is
    refused when asked for, and passed over when chosen."""
    taken = {h.address for h in hosts.all_hosts()} | hosts._claimed()
    k = netns.number(hosts._free_address(taken, "own"))
    subprocess.run(["ip", "addr", "add", f"198.18.{k}.9/32", "dev", "lo"], check=True)
    try:
        with pytest.raises(SystemExit, match=rf"this machine has address 198\.18\.{k}\.9 on lo"):
            hosts.create("on-clash", "bookworm", "stock", "light", address=netns.address(k), network="own")
        assert netns.number(hosts.create("on-skip", "bookworm", "stock", "light", network="own").address) != k
    finally:
        subprocess.run(["ip", "addr", "del", f"198.18.{k}.9/32", "dev", "lo"], check=True)
        lab("down", "--missing-ok", "on-skip")
    assert not (lab_state / "hosts/on-clash").exists()
