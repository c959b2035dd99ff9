"""Debian roots for the ansible-core releases that need a newer Python than this machine has (2.20
and later need 3.12): made once per recipe with mmdebstrap, kept in the lab's cache with what is
made in them (venvs, ansible-test's caches under /root/.ansible), and entered in a private mount
namespace, so that nothing stays mounted once the command ends.

    python3 -m mailsec_lab.coreroot ensure trixie            # build or reuse it; print its path
    python3 -m mailsec_lab.coreroot run trixie -- python3 -V
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mailsec_lab import config, deps
from mailsec_lab.log import say
from mailsec_lab.rootfs import minbase_tar

# Bump when what ensure() or run() expects of a root changes: roots of an older recipe are made again.
RECIPE = "1"
# ansible-test sanity runs shellcheck; the audit and the hardening reach lab hosts over ssh.
PACKAGES = ("python3", "python3-venv", "ca-certificates", "shellcheck", "openssh-client")
READY = ".coreroot-ready"
# This machine's own certificate authorities: pip in the root must trust what pip here trusts.
HOST_CAS = Path("/usr/local/share/ca-certificates")
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Runs in the new mount namespace: $1 the root, then SOURCE TARGET pairs to bind, "--", the command.
# Private propagation keeps these mounts out of the machine's namespace; they go when it ends.
_ENTER = """\
root=$1; shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
while [ "$1" != -- ]; do
    mkdir -p "$root$2"
    mount --bind "$1" "$root$2"
    shift 2
done
shift
exec chroot "$root" "$@"
"""


def recipe_id(release: str) -> str:
    recipe = "|".join((RECIPE, release, *PACKAGES, *config.DPKG_EXCLUDES))
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def root_path(release: str) -> Path:
    return config.cache_dir() / "coreroot" / f"{release}-{recipe_id(release)}"


def ensure(release: str) -> Path:
    """The root of `release` for this recipe, built when missing, with this machine's certificate
    authorities and resolver configuration."""
    root = root_path(release)
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = root / READY
        if not (ready.is_file() and ready.read_text() == recipe_id(release)):
            _build(release, root)
        _refresh(root)
    return root


def _build(release: str, root: Path) -> None:
    tarball = root.with_name(root.name + ".tar.zst")
    minbase_tar(release, PACKAGES, tarball, what="ansible-core root")
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    subprocess.run(["tar", "--zstd", "-xpf", str(tarball), "-C", str(partial)], check=True, stdin=subprocess.DEVNULL)
    tarball.unlink()
    (partial / READY).write_text(recipe_id(release))
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    # Roots of an older recipe hold nothing the new one can use.
    for old in root.parent.glob(f"{release}-*"):
        if old.is_dir() and old != root:
            say(f"removing the outdated root {old.name}")
            shutil.rmtree(old)


def _replace(path: Path, data: bytes) -> bool:
    """Write `data` to `path` in the root unless it holds it already; a link there is replaced,
    never followed out of the root."""
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        return False
    if path.is_symlink() or path.exists():
        path.unlink()
    path.write_bytes(data)
    return True


def _refresh(root: Path) -> None:
    changed = False
    cas = root / HOST_CAS.relative_to("/")
    wanted = {crt.name: crt.read_bytes() for crt in HOST_CAS.glob("*.crt")} if HOST_CAS.is_dir() else {}
    cas.mkdir(parents=True, exist_ok=True)
    for crt in cas.glob("*.crt"):
        if crt.name not in wanted:
            crt.unlink()
            changed = True
    for name, data in wanted.items():
        changed |= _replace(cas / name, data)
    if changed or not (root / "etc/ssl/certs/ca-certificates.crt").is_file():
        proc = run(root, ["update-ca-certificates"], capture=True)
        if proc.returncode != 0:
            raise SystemExit(f"update-ca-certificates failed in {root}:\n{proc.stdout[-2000:]}")
    _replace(root / "etc/resolv.conf", Path("/etc/resolv.conf").read_bytes())


def run(root: Path, command: Sequence[str], binds: Sequence[tuple[Path, str]] = (),
        env: Mapping[str, str] | None = None, capture: bool = False) -> subprocess.CompletedProcess:
    """`command` chrooted into `root` with only `env` (and a PATH), /proc, /dev, a fresh /tmp and
    each host folder of `binds` at its path in the root; stdin is /dev/null."""
    deps.ensure("unshare")
    variables = {"PATH": ROOT_PATH, "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
    argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-ec", _ENTER, "sh", str(root)]
    for source, target in binds:
        argv += [str(source), target]
    argv += ["--", "env", "-i", *(f"{k}={v}" for k, v in variables.items()), *command]
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True} if capture else {}
    return subprocess.run(argv, stdin=subprocess.DEVNULL, check=False, **output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mailsec_lab.coreroot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="build (or reuse) the root; print its path").add_argument("release")
    p = sub.add_parser("run", help="run a command in the root")
    p.add_argument("release")
    p.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("a root needs root (mmdebstrap, mounts, chroot)")
    root = ensure(args.release)
    if args.command == "ensure":
        print(root)
        return 0
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        parser.error("run: name the command, after --")
    return run(root, command).returncode


if __name__ == "__main__":
    sys.exit(main())
