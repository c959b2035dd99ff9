"""One ansible-core release against this collection, step by step: a venv holding only that
release, build, install, ansible-doc of every module, filter and role, ansible-test sanity and
units, and, given a lab host, an audit and a hardening of it.

Run it with the Python the release is to run on: the matrix runs it on this machine and in a
Debian root (tests/lab/mailsec_lab/coreroot.py). Each step's output goes to OUT/<step>.log and
its result, one JSON line, to OUT/results.jsonl; a step whose prerequisite failed is skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from reports import ReportWrong, check_audited, check_hardened

COLLECTION = "mailsec.sendmail"
# A step that hangs must not hang `make test`; the slowest (a cold full sanity) takes about 2 minutes.
TIMEOUT = 1200
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def _ours(line: str) -> bool:
    """A warning that may concern the collection: not one about ansible-core's own internal
    collections (2.20 and 2.21 warn that ansible._protomatter has no MANIFEST.json)."""
    return line.startswith(("[WARNING]", "[DEPRECATION WARNING]")) and "/ansible/_internal/" not in line


class StepFailed(Exception):
    """A step's command failed or its result is wrong; the message says which."""


class Core:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.version: str = args.core
        self.venv = Path(args.venv)
        self.tree = Path(args.tree)
        self.out = Path(args.out)
        self.bin = self.venv / "bin"
        self.env = dict(os.environ, PATH=f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", CI="true",
                        PIP_NO_INPUT="1", ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_COLLECTIONS_PATH=str(self.out / "installed"))
        self.log = None

    def sh(self, *command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run a command, its output to the step's log as well."""
        self.log.write(f"$ {' '.join(map(str, command))}\n")
        self.log.flush()
        try:
            proc = subprocess.run([str(c) for c in command], cwd=cwd or self.out, env=self.env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired as ex:
            raise StepFailed(f"{command[0]} still running after {TIMEOUT}s") from ex
        self.log.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise StepFailed(f"{Path(str(command[0])).name} exited with {proc.returncode}")
        return proc

    # --- the steps: each returns a short note for the summary, or raises StepFailed ---

    def venv_step(self) -> str:
        """Only ansible-core==X (and what it pulls in); ansible-test's own venvs come with the stand-in."""
        stamp = self.venv / ".matrix-core"
        want = f"ansible-core=={self.version} python {sys.version.split()[0]}\n"
        note = "reused"
        if not (stamp.is_file() and stamp.read_text(encoding="utf-8") == want and (self.bin / "ansible-test").is_file()):
            shutil.rmtree(self.venv, ignore_errors=True)
            self.sh(sys.executable, "-m", "venv", self.venv)
            self.sh(self.bin / "python", "-m", "pip", "install", "--no-input", "--progress-bar", "off",
                    f"ansible-core=={self.version}")
            stamp.write_text(want, encoding="utf-8")
            note = "made"
        # ansible-test bootstraps pip in its venvs from a script this machine cannot fetch.
        self.sh(self.bin / "python", self.tree / "tests/tools/place_get_pip_standin.py")
        return note

    def build_step(self) -> str:
        for old in self.out.glob("*.tar.gz"):
            old.unlink()
        self.sh(self.bin / "ansible-galaxy", "collection", "build", "--force", "--output-path", self.out, cwd=self.tree)
        self.sh("bash", self.tree / "tests/tools/check-collection-tarball.sh", self.tarball())
        return self.tarball().name

    def tarball(self) -> Path:
        found = sorted(self.out.glob("mailsec-sendmail-*.tar.gz"))
        if len(found) != 1:
            raise StepFailed(f"expected one collection tarball in {self.out}, found {len(found)}")
        return found[0]

    def install_step(self) -> str:
        shutil.rmtree(self.out / "installed", ignore_errors=True)
        self.sh(self.bin / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", self.out / "installed",
                self.tarball())
        if not (self.out / "installed/ansible_collections/mailsec/sendmail/MANIFEST.json").is_file():
            raise StepFailed("the installed collection has no MANIFEST.json")
        return ""

    def doc_step(self) -> str:
        """Every plugin and role the tree has, documented by the installed collection (JSON) and
        rendered as text without a warning."""
        wanted = {
            "module": sorted(p.stem for p in (self.tree / "plugins/modules").glob("*.py")),
            "filter": sorted(p.stem for p in (self.tree / "plugins/filter").glob("*.py")),
            "role": sorted(p.parent.parent.name for p in (self.tree / "roles").glob("*/meta/argument_specs.yml")),
        }
        for kind, names in wanted.items():
            fqcns = [f"{COLLECTION}.{name}" for name in names]
            docs = json.loads(self.sh(self.bin / "ansible-doc", "-t", kind, "--json", *fqcns).stdout)
            undocumented = [n for n in fqcns if not (docs.get(n) or {}).get("doc" if kind != "role" else "entry_points")]
            if undocumented:
                raise StepFailed(f"ansible-doc -t {kind} finds no documentation for {', '.join(undocumented)}")
            text = self.sh(self.bin / "ansible-doc", "-t", kind, *fqcns)
            if not text.stdout.strip() or any(_ours(line) for line in text.stderr.splitlines()):
                raise StepFailed(f"ansible-doc -t {kind} warned, or printed nothing (see the log)")
        return " ".join(f"{k}s {len(v)}" for k, v in wanted.items())

    def sanity_step(self) -> str:
        tests = [arg for t in self.args.sanity_test for arg in ("--test", t)]
        self.sh(self.bin / "ansible-test", "sanity", "--venv", "--python", PYTHON, *tests, cwd=self.tree)
        return " ".join(self.args.sanity_test) or "all tests"

    def units_step(self) -> str:
        targets = self.args.units_target
        if self.args.units_skip:
            found = {str(p.relative_to(self.tree)) for t in targets or ["tests/unit"] for p in (self.tree / t).rglob("test_*.py")}
            targets = sorted(found - set(self.args.units_skip))
        self.sh(self.bin / "ansible-test", "units", "--venv", "--python", PYTHON, *targets, cwd=self.tree)
        where = " ".join(t.rstrip("/").rsplit("/", 1)[-1] for t in self.args.units_target) or "all"
        return where + "".join(f" but {Path(s).stem}" for s in self.args.units_skip)

    def playbook(self, name: str, *extra: str) -> None:
        self.sh(self.bin / "ansible-playbook", "-i", self.args.inventory, "--limit", self.args.host, *extra,
                f"{COLLECTION}.{name}")

    def audit_step(self) -> str:
        self.playbook("audit", "-e", f"sendmail_audit_report_dir={self.out / 'audit-before'}")
        return check_audited(self.out / "audit-before/report.json", self.args.host)

    def harden_step(self) -> str:
        self.playbook("harden")
        self.playbook("audit", "-e", f"sendmail_audit_report_dir={self.out / 'audit-after'}")
        return check_hardened(self.out / "audit-before/report.json", self.out / "audit-after/report.json", self.args.host)


def steps(core: Core) -> list[tuple[str, Callable[[], str], str | None]]:
    """(name, step, the step it needs) in the order they run."""
    found: list[tuple[str, Callable[[], str], str | None]] = [
        ("venv", core.venv_step, None), ("build", core.build_step, "venv"), ("install", core.install_step, "build"),
        ("doc", core.doc_step, "install"), ("sanity", core.sanity_step, "venv"), ("units", core.units_step, "venv")]
    if core.args.inventory:
        found += [("audit", core.audit_step, "install"), ("harden", core.harden_step, "audit")]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--core", required=True, help="ansible-core version, e.g. 2.16.19")
    parser.add_argument("--venv", required=True, help="its venv (made, or reused while it holds that version)")
    parser.add_argument("--tree", required=True, help="the collection's copy at .../ansible_collections/mailsec/sendmail")
    parser.add_argument("--out", required=True, help="folder for the tarball, the installed collection, logs and reports")
    parser.add_argument("--sanity-test", action="append", default=[], help="only this sanity test (repeatable)")
    parser.add_argument("--units-target", action="append", default=[], help="only these unit tests (repeatable)")
    parser.add_argument("--units-skip", action="append", default=[], help="but not this test file (repeatable)")
    parser.add_argument("--inventory", help="the lab's inventory, for the audit and the hardening")
    parser.add_argument("--host", help="the lab host (in --inventory) this release audits and hardens")
    args = parser.parse_args()
    if bool(args.inventory) != bool(args.host):
        parser.error("--inventory and --host go together")

    core = Core(args)
    core.out.mkdir(parents=True, exist_ok=True)
    done: dict[str, str] = {}
    with open(core.out / "results.jsonl", "w", encoding="utf-8") as results:
        for name, step, needs in steps(core):
            started = time.monotonic()
            status, note = "ok", ""
            with open(core.out / f"{name}.log", "w", encoding="utf-8") as log:
                core.log = log
                if needs and done.get(needs) != "ok":
                    status, note = "skip", f"{needs} did not pass"
                else:
                    try:
                        note = step()
                    except (StepFailed, ReportWrong) as ex:
                        status, note = "fail", str(ex)
            done[name] = status
            seconds = round(time.monotonic() - started, 1)
            print(f"matrix {core.version}: {name} {status} in {seconds}s {note}".rstrip(), flush=True)
            if status == "fail":
                tail = (core.out / f"{name}.log").read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
                print("\n".join(f"    {line[:300]}" for line in tail), flush=True)
            results.write(json.dumps({"core": core.version, "python": PYTHON, "step": name, "status": status,
                                      "seconds": seconds, "note": note, "log": str(core.out / f"{name}.log")}) + "\n")
            results.flush()
    return 0 if all(s == "ok" for s in done.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
