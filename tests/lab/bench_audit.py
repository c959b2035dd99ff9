"""Audit and hardening figures on N light lab hosts (half stock, half legacy; hosts already running):
wall time of `mailsec.sendmail.audit` on 1 and on N hosts, how many tasks reach each host (read
from ansible-core's junit callback), and with --harden the wall time of `mailsec.sendmail.harden`
on the N hosts: a first run that fixes them, then an idempotent re-run, set against the audit."""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from mailsec_lab import config, hosts, image, inventory

ROOT = Path(__file__).resolve().parents[2]


def run_playbook(playbook: str, limit: list[str], extra: list[str]) -> tuple[float, Counter]:
    """Wall time of one run, and per host the number of tasks that ran on it."""
    with tempfile.TemporaryDirectory() as junit_dir:
        env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.junit", JUNIT_OUTPUT_DIR=junit_dir,
                   JUNIT_HIDE_TASK_ARGUMENTS="true", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/installed"),
                   ANSIBLE_HOST_KEY_CHECKING="False")
        cmd = [str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(config.inventory_path()),
               "--limit", ",".join(limit), *extra, playbook]
        started = time.monotonic()
        subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        elapsed = time.monotonic() - started
        reached: Counter = Counter()
        for report in Path(junit_dir).glob("*.xml"):
            for case in ET.parse(report).getroot().iter("testcase"):
                name = case.get("name", "")
                host = name[1:name.index("]")] if name.startswith("[") else ""
                if host and " -> " not in host and case.find("skipped") is None:
                    reached[(host, name.split("] ", 1)[1])] += 1
    return elapsed, reached


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--playbook", default="mailsec.sendmail.audit")
    parser.add_argument("--release", default="bookworm")
    parser.add_argument("--harden", action="store_true", help="also time the hardening role")
    args = parser.parse_args()
    image.ensure_base(args.release)
    names = [f"audit{i:02d}" for i in range(args.n)]
    lab = []
    for i, name in enumerate(names):
        if (config.hosts_dir() / name).exists():
            hosts.destroy(hosts.load(name))
        lab.append(hosts.create(name, args.release, "legacy" if i % 2 else "stock", "light"))
    for h in lab:
        hosts.start(h)
    hosts.wait_ready(lab)
    inventory.write(hosts.all_hosts())
    with tempfile.TemporaryDirectory() as reports:
        extra = ["-e", f"sendmail_audit_report_dir={reports}"]
        try:
            run_playbook(args.playbook, names[:1], extra)  # warm-up: caches, SSH host keys
            one = run_playbook(args.playbook, names[:1], extra)[0]
            many, reached = run_playbook(args.playbook, names, extra)
            if args.harden:
                first = run_playbook("mailsec.sendmail.harden", names, [])[0]
                again = run_playbook("mailsec.sendmail.harden", names, [])[0]
                audit_after = run_playbook(args.playbook, names, extra)[0]
        finally:
            for h in lab:
                hosts.destroy(h)
            inventory.write(hosts.all_hosts())
    print(f"{args.playbook}: 1 light host: {one:.1f} s; {args.n} light hosts: {many:.1f} s")
    print("tasks per host (tasks with no module on the host, such as argument checks, includes, debug or a "
          "run_once report delegated to the controller, are listed too):")
    for task in sorted({name for _host, name in reached}):
        counts = sorted({n for (_who, t), n in reached.items() if t == task})
        print(f"  {task.split(' : ', 1)[-1]}: ran for {sum(1 for _who, t in reached if t == task)} hosts, {counts} times each")
    drift = Counter(host for host, task in reached if "Evaluate every control" in task)
    print(f"sendmail_drift calls per host: {sorted(set(drift.values()))} on {len(drift)} hosts")
    if args.harden:
        print(f"mailsec.sendmail.harden on {args.n} hosts: first run {first:.1f} s, idempotent re-run {again:.1f} s "
              f"= {again / many:.2f} x the audit ({many:.1f} s); audit of the hardened hosts {audit_after:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
