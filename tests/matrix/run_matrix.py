"""The ansible-core matrix: every release of cores.txt builds, installs, documents and tests the
collection (core_steps.py), and audits and hardens a lab host of its own; one table at the end.

    MATRIX_RSYNC_EXCLUDES='...' python3 tests/matrix/run_matrix.py [--cores 2.16.19,2.20.10]

mk/matrix.mk runs it with the repository's rsync excludes (Q_RSYNC_EXCLUDES of mk/quality.mk).
Needs root: lab hosts, and the trixie root the newer releases run in (mailsec_lab.coreroot).
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailsec_lab import coreroot
from summary import render

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
IN_ROOT = "/matrix"  # where the matrix's build folder is seen inside a root
# What each place runs. On this machine (releases older than the main pin), sanity is
# validate-modules only: their other sanity tests add to 2.19's only Python-2 era boilerplate
# rules (2.16), for two minutes a release. Their unit tests are those of module_utils, as the
# modules' tests use ansible.module_utils.testing (new in 2.19), but for the property tests of
# the parsers: pure functions that import nothing of ansible-core, and the slowest tests (25 s).
PLACES = {
    "host": {"sanity_test": ["validate-modules"], "units_target": ["tests/unit/plugins/module_utils/"],
             "units_skip": ["tests/unit/plugins/module_utils/test__parsers_properties.py"]},
    "trixie": {},
}
LAB_SPEC = "bookworm:legacy:light"  # a host with drift to fix, that starts in a second or two


@dataclass
class Core:
    place: str
    version: str

    @property
    def host(self) -> str:
        return "matrix-" + self.version.rsplit(".", 1)[0].replace(".", "-")


def read_cores(path: Path) -> list[Core]:
    cores = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            if len(words) != 2 or words[0] not in PLACES:
                raise SystemExit(f"{path}: '{line}' is not PLACE VERSION (PLACE: {', '.join(PLACES)})")
            cores.append(Core(*words))
    return cores


class Lab:
    """The matrix's lab hosts, in a state folder of their own, through the lab's command line."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.env = dict(os.environ, MAILSEC_LAB_STATE=str(state))

    def cli(self, *args: str) -> None:
        proc = subprocess.run([sys.executable, "-m", "mailsec_lab", *args], env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"lab {args[0]} failed:\n{proc.stdout}{proc.stderr}")

    @property
    def inventory(self) -> Path:
        return self.state / "inventory.yml"

    def up(self, names: list[str]) -> None:
        """Fresh hosts (the lab keeps hosts of other states off their addresses)."""
        self.cli("down", "--missing-ok", *names)
        self.cli("up", *(f"{n}:{LAB_SPEC}" for n in names))


def sync_tree(tree: Path, excludes: list[str], git: bool) -> None:
    """The collection's copy for ansible-test; its tests/output (venvs) is kept between runs."""
    tree.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rsync", "-a", "--delete", *excludes, f"{REPO}/", f"{tree}/"], check=True, stdin=subprocess.DEVNULL)
    if git:
        # In build/, which this repository ignores: a repository of its own makes ansible-test list
        # the copied files (as mk/quality.mk's collection-tree does).
        if not (tree / ".git").is_dir():
            subprocess.run(["git", "-C", str(tree), "init", "-q"], check=True, stdin=subprocess.DEVNULL)
        (tree / ".git/info/exclude").write_text("/tests/output/\n__pycache__/\n*.pyc\n.pytest_cache/\n", encoding="utf-8")


def step_args(core: Core, lab: Lab | None) -> list[str]:
    args = []
    for key, values in PLACES[core.place].items():
        args += [a for v in values for a in (f"--{key.replace('_', '-')}", v)]
    if lab:
        args += ["--inventory", str(lab.inventory), "--host", core.host]
    return args


def run_core(core: Core, build: Path, excludes: list[str], lab: Lab | None, root: Path | None) -> None:
    base = build / core.version
    tree = base / "ansible_collections/mailsec/sendmail"
    env = {"CI": "true", "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    print(f"==> matrix {core.version} ({core.place})", flush=True)
    sync_tree(tree, excludes, git=root is None)
    if root is None:
        command = [sys.executable, str(HERE / "core_steps.py"), "--core", core.version, "--venv", str(base / "venv"),
                   "--tree", str(tree), "--out", str(base / "out"), *step_args(core, lab)]
        subprocess.run(command, env=dict(os.environ, **env), stdin=subprocess.DEVNULL, check=False)
    else:
        # The root's own Python runs the steps from the copy; its venvs stay in the root, with ansible-test's caches.
        inside = f"{IN_ROOT}/{core.version}"
        command = ["python3", f"{inside}/ansible_collections/mailsec/sendmail/tests/matrix/core_steps.py",
                   "--core", core.version, "--venv", f"/opt/ansible-core/{core.version}",
                   "--tree", f"{inside}/ansible_collections/mailsec/sendmail", "--out", f"{inside}/out",
                   *step_args(core, lab)]
        binds = [(build, IN_ROOT)] + ([(lab.state, str(lab.state))] if lab else [])
        coreroot.run(root, command, binds=binds, env=env)


def results(build: Path, core: Core) -> list[dict]:
    path = build / core.version / "out/results.jsonl"
    if not path.is_file():
        return []
    found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for result in found:  # a root's paths, as this machine sees them
        if result["log"].startswith(IN_ROOT + "/"):
            result["log"] = str(build) + result["log"][len(IN_ROOT):]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", help="comma-separated versions of cores.txt to run (default: all)")
    parser.add_argument("--build", type=Path, default=REPO / "build/matrix", help="trees, venvs and outputs")
    parser.add_argument("--state", type=Path, default=Path(os.environ.get("MATRIX_LAB_STATE", "/var/lib/mailsec-lab-matrix")),
                        help="the matrix's lab state folder (never another lab's)")
    parser.add_argument("--no-lab", action="store_true", help="leave out the audit and the hardening")
    parser.add_argument("--jobs", type=int, default=2, help="places (this machine, a root) run side by side")
    args = parser.parse_args()
    if "MATRIX_RSYNC_EXCLUDES" not in os.environ:
        parser.error("MATRIX_RSYNC_EXCLUDES is unset: run it through mk/matrix.mk")
    excludes = shlex.split(os.environ["MATRIX_RSYNC_EXCLUDES"])
    cores = read_cores(HERE / "cores.txt")
    if args.cores:
        unknown = set(args.cores.split(",")) - {c.version for c in cores}
        if unknown:
            parser.error(f"not in cores.txt: {', '.join(sorted(unknown))}")
        cores = [c for c in cores if c.version in args.cores.split(",")]

    started = time.monotonic()
    args.build.mkdir(parents=True, exist_ok=True)
    setup: list[tuple[str, float]] = []

    def timed(what: str, action: Callable[[], Any]) -> Any:
        """A set-up step; its failure is reported in the table, and the releases needing it have no results."""
        t = time.monotonic()
        try:
            found = action()
        except SystemExit as ex:
            print(f"matrix: {what} FAILED: {ex}", flush=True)
            setup.append((f"{what} FAILED", time.monotonic() - t))
            return None
        setup.append((what, time.monotonic() - t))
        return found or True

    lab = Lab(args.state)
    hosts = [] if args.no_lab else [c.host for c in cores]

    def run_place(place: str, with_lab: bool) -> None:
        root = None
        if place != "host":
            root = timed(f"{place} root", lambda: coreroot.ensure(place))
            if root is None:
                return
        for core in (c for c in cores if c.place == place):
            run_core(core, args.build, excludes, lab if with_lab else None, root)

    with open(args.build / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one matrix at a time: they would share trees and venvs
        for core in cores:
            (args.build / core.version / "out/results.jsonl").unlink(missing_ok=True)
        try:
            # Without its hosts the audit and the hardening are left out; the set-up failure fails the matrix.
            with_lab = bool(hosts) and timed("lab hosts up", lambda: lab.up(hosts)) is not None
            # This machine and a root side by side: either alone keeps the two cores busy half of the time.
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                for done in [pool.submit(run_place, p, with_lab) for p in dict.fromkeys(c.place for c in cores)]:
                    done.result()
        finally:
            if hosts:
                lab.cli("down", "--missing-ok", *hosts)
    table, ok = render([(c, results(args.build, c)) for c in cores], setup, time.monotonic() - started)
    print(table)
    (args.build / "summary.txt").write_text(table + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
