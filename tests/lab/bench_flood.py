"""An SMTP flood into a lab host while it is hardened: no accepted message may be lost.

A client sends messages at a steady rate (20 a second by default), one connection each, to a
fresh stock host on the systemd backend; a few seconds in, `mailsec.sendmail.harden` runs against
it (RunAsUser set, the daemon restarted by the handler). When the flood ends the queues are run
and every accepted message must reach the mailbox exactly once. Prints accepted, refused (the
connection or the transaction refused, as during the restart), delivered, lost and duplicated.
This is a benchmark, not a test: it prints figures and says whether any accepted message was lost.
"""
from __future__ import annotations

import argparse
import os
import re
import smtplib
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mailsec_lab import config, hosts, image, inventory

ROOT = Path(__file__).resolve().parents[2]
NAME = "flood"


def send(address: str, fqdn: str, number: int, outcomes: Counter, lock: threading.Lock) -> None:
    subject = f"flood-{number:05d}"
    try:
        with smtplib.SMTP(address, 25, timeout=20) as smtp:
            smtp.ehlo("controller.lab.test")
            smtp.sendmail(f"tester@{fqdn}", [f"alice@{fqdn}"], f"From: tester@{fqdn}\r\nSubject: {subject}\r\n\r\nflood\r\n")
        outcome = "accepted"
    except (OSError, smtplib.SMTPException) as exc:
        outcome = "refused:" + type(exc).__name__
    with lock:
        outcomes[outcome] += 1
        if outcome == "accepted":
            outcomes.setdefault("subjects", set()).add(subject)


def ssh(host: hosts.Host, command: str) -> str:
    return subprocess.run(hosts.ssh_command(host, command), capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="messages a second")
    parser.add_argument("--before", type=float, default=3.0, help="seconds of flood before the hardening starts")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of flood after the hardening ended")
    parser.add_argument("--backend", default="systemd", choices=config.BACKENDS)
    args = parser.parse_args()
    image.ensure_base("bookworm")
    if (config.hosts_dir() / NAME).exists():
        hosts.destroy(hosts.load(NAME))
    host = hosts.create(NAME, "bookworm", "stock", args.backend)
    hosts.start(host)
    hosts.wait_ready([host])
    inventory.write(hosts.all_hosts())
    try:
        return flood(host, args)
    finally:
        hosts.destroy(host)
        inventory.write(hosts.all_hosts())


def flood(host: hosts.Host, args: argparse.Namespace) -> int:
    outcomes: Counter = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def pace() -> None:
        with ThreadPoolExecutor(max_workers=32) as pool:
            started, number = time.monotonic(), 0
            while not stop.is_set():
                pool.submit(send, host.address, host.fqdn, number, outcomes, lock)
                number += 1
                time.sleep(max(0.0, started + number / args.rate - time.monotonic()))

    client = threading.Thread(target=pace)
    client.start()
    time.sleep(args.before)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/installed"), ANSIBLE_HOST_KEY_CHECKING="False")
    began = time.monotonic()
    run = subprocess.run([str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(config.inventory_path()), "--limit", NAME,
                          "mailsec.sendmail.harden"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    hardening = time.monotonic() - began
    time.sleep(args.after)
    stop.set()
    client.join()
    accepted = outcomes.pop("subjects", set())
    # Whatever still waits in a queue is delivered now, as the next queue run would.
    ssh(host, "sendmail -q; sendmail -Ac -q; sleep 1")
    deadline = time.monotonic() + 120
    delivered: Counter = Counter()
    while time.monotonic() < deadline:
        box = ssh(host, "cat /var/mail/alice 2>/dev/null || true")
        delivered = Counter(re.findall(r"^Subject: (flood-\d+)$", box, re.M))
        if set(accepted) <= set(delivered):
            break
        time.sleep(1)
    left = ssh(host, "find /var/spool/mqueue /var/spool/mqueue-client -type f -name 'qf*' -printf '%u %p\\n'").split("\n")
    lost = sorted(set(accepted) - set(delivered))
    twice = sorted(subject for subject, count in delivered.items() if count > 1)
    refused = {key: value for key, value in outcomes.items() if key.startswith("refused:")}
    recap = re.search(r"^flood\s*:.*$", run.stdout, re.M)
    print(f"harden playbook: exit {run.returncode}, {hardening:.1f} s ({recap.group(0).strip() if recap else 'no recap'})")
    print(f"rate {args.rate:g}/s, {sum(outcomes.values())} attempts over {args.before + hardening + args.after:.1f} s")
    print(f"accepted {len(accepted)}, refused {sum(refused.values())} {refused or ''}")
    print(f"delivered {len(set(delivered) & set(accepted))}, lost {len(lost)}, delivered twice {len(twice)}")
    print(f"queue files left: {len([line for line in left if line.strip()])}")
    if lost:
        print("lost: " + ", ".join(lost[:20]))
    print("RunAsUser: " + (ssh(host, "grep '^O RunAsUser' /etc/mail/sendmail.cf || echo unset").strip()))
    return 1 if lost or twice or run.returncode else 0


if __name__ == "__main__":
    raise SystemExit(main())
