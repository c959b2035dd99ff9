"""Lab start-up figures: create and start N light hosts from a cached image, then report the wall
time and what each host costs in disk (its overlay) and memory (PSS of its processes)."""
from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from mailsec_lab import hosts, image, inventory


def _du(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def _pss(pid: int) -> int:
    """PSS of a process and all its descendants, in bytes (shared pages split fairly)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--release", default="bookworm")
    args = parser.parse_args()
    image.ensure_base(args.release)  # cached image: not part of the figure
    names = [f"bench{i:02d}" for i in range(args.n)]
    for name in names:
        if (hosts.config.hosts_dir() / name).exists():
            hosts.destroy(hosts.load(name))
    started = time.monotonic()
    lab = [hosts.create(n, args.release, "stock", "light") for n in names]
    for h in lab:
        hosts.start(h)
    hosts.wait_ready(lab)
    elapsed = time.monotonic() - started
    inventory.write(hosts.all_hosts())
    time.sleep(1)  # let start-up settle before measuring memory
    disk = [_du(h.dir) for h in lab]
    mem = [_pss(h.pid) for h in lab]
    try:
        print(f"hosts: {args.n} light {args.release} hosts, image cached")
        print(f"create+start, until sshd and SMTP answer on every host: {elapsed:.2f} s in all, "
              f"{elapsed / args.n:.2f} s per host")
        print(f"disk per host (overlay upper+work): avg {sum(disk) / len(disk) / 1e6:.1f} MB, max {max(disk) / 1e6:.1f} MB")
        print(f"memory per host (PSS of its processes): avg {sum(mem) / len(mem) / 1e6:.1f} MB, max {max(mem) / 1e6:.1f} MB")
        print(f"disk+memory per host: max {max(d + m for d, m in zip(disk, mem, strict=True)) / 1e6:.1f} MB")
    finally:
        for h in lab:
            hosts.destroy(h)
        inventory.write(hosts.all_hosts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
