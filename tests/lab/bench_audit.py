"""The audit at fleet scale, against its own anchors, on light lab hosts (half stock, half legacy).

Three ways of doing the same reads, run side by side (interleaved, the median of each):
- the floor: one call per host of a module that reads what the audit reads and does nothing else
  (bench/library/sendmail_reads.py);
- the stock way: a task per file or setting (bench/stock.yml);
- `mailsec.sendmail.audit`, reports and all.
It prints audit/floor at each size of --sizes (forks = hosts), stock/audit at --stock-at hosts, and
the curve over --curve (audit, floor, ping; forks at most 50) with the controller's peak memory
(the resident memory of ansible-playbook and every process it starts, summed, sampled every 50 ms).
A benchmark, not a test: it prints figures and checks nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from mailsec_lab import config, hosts, image, inventory

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent / "bench"
MAX_FORKS = 50


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        todo.extend(int(child) for child in children)
    return total


def run(playbook: str, names: list[str], extra: list[str] | None = None) -> tuple[float, int]:
    """Wall time of one ansible-playbook run on ``names`` (forks: one per host, at most 50) and its peak memory."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/installed"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LIBRARY=str(BENCH / "library"), ANSIBLE_PIPELINING="True")
    cmd = [str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(config.inventory_path()), "--limit", ",".join(names),
           "--forks", str(min(len(names), MAX_FORKS)), *(extra or []), playbook]
    peak = 0
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _err = proc.communicate()
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{playbook} failed on {len(names)} hosts:\n{out.decode(errors='replace')[-3000:]}")
    return elapsed, peak


def side_by_side(runs: dict, names: list[str], rounds: int) -> dict:
    """The median wall time (and the peak memory) of each way, the ways interleaved round after round."""
    times = {way: [] for way in runs}
    memory = dict.fromkeys(runs, 0)
    for _round in range(rounds):
        for way, (playbook, extra) in runs.items():
            elapsed, peak = run(playbook, names, extra)
            times[way].append(elapsed)
            memory[way] = max(memory[way], peak)
    return {way: (statistics.median(values), memory[way]) for way, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50", help="host counts for audit/floor, forks = hosts")
    parser.add_argument("--stock-at", type=int, default=10, help="host count for the stock-task anchor (0: none)")
    parser.add_argument("--curve", default="1,10,50,100,200", help="host counts of the curve")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per size (median)")
    parser.add_argument("--release", default="bookworm")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n]
    curve = [int(n) for n in args.curve.split(",") if n]
    image.ensure_base(args.release)
    total = max(sizes + curve + [args.stock_at, 1])
    names = [f"fleet{i:03d}" for i in range(total)]
    lab = []
    for i, name in enumerate(names):
        if (config.hosts_dir() / name).exists():
            hosts.destroy(hosts.load(name))
        lab.append(hosts.create(name, args.release, "legacy" if i % 2 else "stock", "light"))
    for host in lab:
        hosts.start(host)
    hosts.wait_ready(lab, timeout=300)
    inventory.write(hosts.all_hosts())
    with tempfile.TemporaryDirectory() as reports:
        audit = ("mailsec.sendmail.audit", ["-e", f"sendmail_audit_report_dir={reports}"])
        floor = (str(BENCH / "floor.yml"), [])
        try:
            run(str(BENCH / "ping.yml"), names)  # warm-up: SSH, caches
            print(f"audit against the one-call floor, side by side, median of {args.rounds} interleaved rounds:")
            for n in sizes:
                got = side_by_side({"floor": floor, "audit": audit}, names[:n], args.rounds)
                print(f"  {n} hosts, forks {min(n, MAX_FORKS)}: floor {got['floor'][0]:.1f} s, audit {got['audit'][0]:.1f} s, "
                      f"audit/floor {got['audit'][0] / got['floor'][0]:.2f}")
            if args.stock_at:
                got = side_by_side({"stock": (str(BENCH / "stock.yml"), []), "audit": audit}, names[:args.stock_at], 1)
                print(f"stock tasks against the audit, {args.stock_at} hosts: stock {got['stock'][0]:.1f} s, "
                      f"audit {got['audit'][0]:.1f} s, stock/audit {got['stock'][0] / got['audit'][0]:.1f}")
            print("curve (forks: hosts, at most 50): hosts, audit, floor, ping, controller peak memory of the audit")
            for n in curve:
                got = side_by_side({"audit": audit, "floor": floor, "ping": (str(BENCH / "ping.yml"), [])}, names[:n], 1)
                print(f"  {n:4d} hosts: audit {got['audit'][0]:6.1f} s, floor {got['floor'][0]:6.1f} s, ping {got['ping'][0]:6.1f} s, "
                      f"peak {got['audit'][1] / 1024:.0f} MiB")
        finally:
            for host in lab:
                hosts.destroy(host)
            inventory.write(hosts.all_hosts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
