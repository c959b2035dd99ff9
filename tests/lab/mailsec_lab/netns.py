"""Hosts of network mode "own": each runs in a network namespace of its own, made when it starts and
deleted when it stops, reached from the machine over a veth pair. Host number k (1..254) has the
machine's end mslab{k} with 198.18.k.1/24 and its own eth0 with 198.18.k.2/24, in RFC 2544's
benchmarking range, which public networks do not route. The host has no route beyond its /24:
only this machine reaches it. A stopped host's address is nobody's: the machine's default route
may take a connection to it out to a gateway that answers."""
from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from pathlib import Path

from mailsec_lab import deps

RANGE = ipaddress.ip_network("198.18.0.0/15")
NUMBERS = range(1, 255)
NETNS_DIR = Path("/run/netns")  # where `ip netns add` mounts a namespace to keep it
NETNS_PREFIX = "mailsec-lab-"
VETH_PREFIX = "mslab"  # interface names have 15 characters at most
_HOST_ADDRESS = re.compile(r"198\.18\.([1-9]\d{0,2})\.2")


def address(k: int) -> str:
    return f"198.18.{k}.2"


def number(host_address: str) -> int:
    """k of a host address 198.18.k.2; anything else is refused."""
    match = _HOST_ADDRESS.fullmatch(host_address)
    if not match or int(match.group(1)) not in NUMBERS:
        raise SystemExit(f"{host_address}: an own-network host's address is 198.18.k.2, k from 1 to 254")
    return int(match.group(1))


def name(host_address: str) -> str:
    return f"{NETNS_PREFIX}{number(host_address)}"


def path(host_address: str) -> Path:
    return NETNS_DIR / name(host_address)


def _subnet(k: int) -> ipaddress.IPv4Network:
    return ipaddress.ip_network(f"198.18.{k}.0/24")


def _ip(*args: str, missing_ok: bool = False) -> str:
    deps.ensure("ip")
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 and not (missing_ok and ("Cannot find device" in proc.stderr
                                                     or "No such file or directory" in proc.stderr)):
        raise SystemExit(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def machine_holds() -> list[tuple[str, ipaddress.IPv4Network]]:
    """The machine's IPv4 addresses, and its routes into the benchmarking range: routes wider than
    the range (the default one) take nothing from a lab host."""
    held = []
    for link in json.loads(_ip("-j", "-4", "addr", "show") or "[]"):
        for info in link.get("addr_info", []):
            held.append((f"address {info['local']} on {link['ifname']}", ipaddress.ip_network(info["local"])))
    for route in json.loads(_ip("-j", "-4", "route", "show", "table", "all") or "[]"):
        dst = ipaddress.ip_network("0.0.0.0/0" if route["dst"] == "default" else route["dst"], strict=False)
        if dst.subnet_of(RANGE):
            held.append((f"route {route['dst']} on {route.get('dev', '?')}", dst))
    return held


def conflict(k: int, held: list[tuple[str, ipaddress.IPv4Network]]) -> str | None:
    """What of the machine's is in 198.18.k.0/24, if anything: a host there would take its traffic."""
    return next((what for what, network in held if network.overlaps(_subnet(k))), None)


def up(host_address: str) -> Path:
    """The host's namespace, with its veth pair addressed and up (whatever a killed run left of
    it deleted first); the host's process is then started in it."""
    k = number(host_address)
    down(host_address)
    found = conflict(k, machine_holds())
    if found:
        raise SystemExit(f"{host_address}: this machine has {found} in {_subnet(k)}, where the lab host would be")
    ns, veth = name(host_address), f"{VETH_PREFIX}{k}"
    _ip("netns", "add", ns)
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    _ip("addr", "add", f"198.18.{k}.1/24", "dev", veth)
    _ip("link", "set", veth, "up")
    _ip("-n", ns, "addr", "add", f"{host_address}/24", "dev", "eth0")
    _ip("-n", ns, "link", "set", "eth0", "up")
    _ip("-n", ns, "link", "set", "lo", "up")
    return path(host_address)


def down(host_address: str) -> None:
    """The veth goes first: deleting one end takes the other with it at once, where deleting the
    namespace would leave the kernel to remove them a moment later."""
    k = number(host_address)
    _ip("link", "del", f"{VETH_PREFIX}{k}", missing_ok=True)
    if path(host_address).exists():
        _ip("netns", "del", name(host_address), missing_ok=True)


def present() -> set[str]:
    """Addresses of the hosts that have a lab namespace or veth on this machine now."""
    found = set()
    if NETNS_DIR.is_dir():
        found |= {entry.name.removeprefix(NETNS_PREFIX) for entry in NETNS_DIR.iterdir()
                  if entry.name.startswith(NETNS_PREFIX)}
    found |= {link["ifname"].removeprefix(VETH_PREFIX) for link in json.loads(_ip("-j", "link", "show", "type", "veth") or "[]")
              if link["ifname"].startswith(VETH_PREFIX)}
    return {address(int(k)) for k in found if k.isdigit() and int(k) in NUMBERS}


def listening(pid: int, port: int) -> bool:
    """A socket in LISTEN state (0A) on the port, any address, in the network namespace of the
    process: /proc/PID/net shows that one, not the reader's."""
    wanted = f":{port:04X}"
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        if any(fields[1].endswith(wanted) and fields[3] == "0A" for fields in (line.split() for line in lines)):
            return True
    return False
