"""What SM-RUNAS-02's scan costs on a host with many users (5,000 by default), against its floor.

One light stock host. Its passwd database gets --users ordinary users with homes (a third of them
mode 0700), a tenth of them with a .forward (piping to a program, or including a private list).
Two module calls are run side by side, interleaved, --rounds times each (the median):
- the floor: sendmail_drift judging SM-TRUST-01 only, which reads the host the same way (sendmail
  -d0.10, both .cf files, the layout) but scans no home;
- the scan: sendmail_drift judging SM-RUNAS-02, which also walks every account's ForwardPath files,
  the lists they name and the alias files.
Printed at the host's own accounts and after adding the users, with the items found. A benchmark,
not a test: it prints figures and checks nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

from mailsec_lab import config, hosts, image, inventory

ROOT = Path(__file__).resolve().parents[2]
NAME = "runas-bench"

# Run on the host: users u00000.., homes, and .forward files of both kinds; no useradd (too slow at this count).
ADD_USERS = r"""
import os, sys
count = int(sys.argv[1])
with open('/etc/passwd', 'a') as passwd, open('/etc/group', 'a') as group:
    for number in range(count):
        name, uid = 'u%05d' % number, 20000 + number
        home = '/home/' + name
        passwd.write('%s:x:%d:%d::%s:/bin/sh\n' % (name, uid, uid, home))
        group.write('%s:x:%d:\n' % (name, uid))
        os.makedirs(home, exist_ok=True)
        if number % 10 == 0:
            text = '"|/usr/bin/true"\n' if number % 20 == 0 else ':include:%s/list\n' % home
            with open(home + '/.forward', 'w') as forward:
                forward.write(text)
            with open(home + '/list', 'w') as private:
                private.write('\\%s\n' % name)
            for path, mode in ((home + '/.forward', 0o644), (home + '/list', 0o600)):
                os.chown(path, uid, uid)
                os.chmod(path, mode)
        os.chown(home, uid, uid)
        os.chmod(home, 0o700 if number % 3 == 0 else 0o755)
"""


def call(control: str) -> tuple[float, dict]:
    """Wall time of one ad-hoc sendmail_drift call judging ``control``, and its finding."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/installed"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_PIPELINING="True")
    cmd = [str(ROOT / ".venv/bin/ansible"), "-i", str(config.inventory_path()), NAME, "-o", "-m", "mailsec.sendmail.sendmail_drift",
           "-a", json.dumps({"include": [control], "probe_kernel": False})]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"sendmail_drift failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.split(" => ", 1)[1])  # -o: one line, `host | SUCCESS => {result}`
    return elapsed, result["findings"][0]


def side_by_side(rounds: int) -> dict:
    times = {"SM-TRUST-01": [], "SM-RUNAS-02": []}
    finding = None
    for _round in range(rounds):
        for control in times:
            elapsed, found = call(control)
            times[control].append(elapsed)
            if control == "SM-RUNAS-02":
                finding = found
    return {"floor": statistics.median(times["SM-TRUST-01"]), "scan": statistics.median(times["SM-RUNAS-02"]), "finding": finding}


def report(label: str, figures: dict) -> None:
    extra = figures["scan"] - figures["floor"]
    counted = re.search(r": (\d+) deliver", figures["finding"]["actual"])  # the finding names the first ones and counts all
    items = int(counted.group(1)) if counted else 0
    print(f"{label}: floor {figures['floor']:.2f} s, with the scan {figures['scan']:.2f} s "
          f"(+{extra * 1000:.0f} ms, {figures['scan'] / figures['floor']:.2f}x); SM-RUNAS-02 {figures['finding']['status']}, "
          f"{items} items; {figures['finding']['actual'][:90]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    image.ensure_base("bookworm")
    if (config.hosts_dir() / NAME).exists():
        hosts.destroy(hosts.load(NAME))
    host = hosts.create(NAME, "bookworm", "stock", "light")
    hosts.start(host)
    hosts.wait_ready([host])
    inventory.write(hosts.all_hosts())
    try:
        report("host's own accounts", side_by_side(args.rounds))
        subprocess.run(hosts.ssh_command(host, "python3", "-", str(args.users)), input=ADD_USERS, text=True, check=True)
        report(f"{args.users} users added", side_by_side(args.rounds))
    finally:
        hosts.destroy(host)
        inventory.write(hosts.all_hosts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
