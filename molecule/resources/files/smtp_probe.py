"""What an SMTP client from another address sees of a host: the greeting, HELP, VRFY, EXPN, ETRN,
VERB, DEBUG, WIZ, a relay attempt and a local recipient. Prints the answers as JSON; `judge` says,
check by check, whether the host refuses what the baseline wants refused. The client waits for the
greeting before it speaks (Debian refuses early talkers) and binds the address given. A lab host in a
network namespace of its own (lab network "own") is probed from inside that namespace, on its own
loopback: once it is no relay, that is the only place its MTA answers."""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import sys

CLONE_NEWNET = 0x40000000

# The client's address: a loopback address no lab host takes, so that the host sees a foreign client.
CLIENT = "127.0.0.254"
COMMANDS = {"help": "HELP", "vrfy": "VRFY root", "expn": "EXPN root", "etrn": "ETRN lab.test", "verb": "VERB",
            "debug": "DEBUG", "wiz": "WIZ"}


@contextlib.contextmanager
def network_of(netns: str | None):
    """Sockets made inside are made in the network namespace ``netns`` (a /run/netns path; None: this one).
    setns moves the calling thread only, and a socket stays in the namespace it was made in."""
    if not netns:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(netns, os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
        try:
            yield
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the machine's network")
    finally:
        os.close(own)
        os.close(target)


def _reply(stream) -> list[str]:
    """One reply, its lines in order. sendmail may send 0xx lines before it (such as "051 ...: Name server
    timeout" where the host has no resolver): they are notes, not the reply, and are kept with it."""
    lines = []
    while True:
        line = stream.readline().decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if (len(line) < 4 or line[3] != "-") and not line.startswith("0"):
            return lines


def probe(address: str, fqdn: str, client: str = CLIENT) -> dict:
    with socket.create_connection((address, 25), timeout=30, source_address=(client, 0)) as sock:
        stream = sock.makefile("rb")

        def ask(command: str) -> list[str]:
            sock.sendall(command.encode() + b"\r\n")
            return _reply(stream)

        found = {"greeting": _reply(stream), "ehlo": ask("EHLO client.example")}
        for key, command in COMMANDS.items():
            found[key] = ask(command)
        found["mail"] = ask(f"MAIL FROM:<tester@{fqdn}>")
        found["relay"] = ask("RCPT TO:<someone@foreign.example>")
        found["local"] = ask(f"RCPT TO:<root@{fqdn}>")
        ask("QUIT")
    return found


def _code(lines: list[str]) -> int:
    return int(lines[-1][:3])


def judge(found: dict, version: str) -> dict:
    """Check name -> whether the host does what the baseline wants."""
    extensions = {line[4:].split()[0].upper() for line in found["ehlo"][1:]}
    return {
        "greeting without version": version not in " ".join(found["greeting"]),
        "HELP without version": version not in " ".join(found["help"]),
        "VRFY refused": _code(found["vrfy"]) in (252, 502, 550),
        "EXPN refused": _code(found["expn"]) >= 500,
        "ETRN refused": _code(found["etrn"]) >= 500,
        "VERB refused": _code(found["verb"]) >= 500,
        "EXPN, VERB and ETRN not offered": not extensions & {"EXPN", "VERB", "ETRN"},
        "DEBUG refused": _code(found["debug"]) >= 500,
        "WIZ refused": _code(found["wiz"]) >= 500,
        "relaying refused": _code(found["relay"]) >= 500 and "Relaying denied" in found["relay"][-1],
    }


if __name__ == "__main__":
    # ADDRESS FQDN [NETNS]
    with network_of(sys.argv[3] if len(sys.argv) > 3 else None):
        print(json.dumps(probe(sys.argv[1], sys.argv[2])))
