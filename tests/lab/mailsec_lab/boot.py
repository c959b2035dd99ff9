"""Runs inside the host's own mount namespace (made by `unshare`): mounts the overlay, sets the
host up on its first start, then becomes the host. Everything it mounts dies with the namespace,
so a killed host leaves no mount behind on the machine."""
from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from mailsec_lab.hostsetup import setup_host

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND = 1, 2, 4, 8, 4096
MNT_DETACH = 2
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
OLD_ROOT = ".lab-oldroot"

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: Path | str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    if _libc.mount(source.encode(), str(target).encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def mount_overlay(hostdir: Path, base: str) -> Path:
    merged = hostdir / "merged"
    _mount("overlay", merged, "overlay", 0,
           f"lowerdir={base},upperdir={hostdir / 'upper'},workdir={hostdir / 'work'}")
    return merged


def _light_mounts(root: Path) -> None:
    """The few kernel file systems a host needs; /dev carries only harmless nodes."""
    _mount("proc", root / "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("sysfs", root / "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", root / "dev", "tmpfs", MS_NOSUID, "mode=755,size=1m")
    for dev in DEVICES:
        (root / "dev" / dev).touch()
        _mount(f"/dev/{dev}", root / "dev" / dev, None, MS_BIND)
    for sub in ("pts", "shm"):
        (root / "dev" / sub).mkdir()
    _mount("devpts", root / "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    os.symlink("pts/ptmx", root / "dev/ptmx")
    _mount("tmpfs", root / "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=16m")
    _mount("tmpfs", root / "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16m")
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        os.symlink(f"/proc/self/fd/{fd}", root / "dev" / name)


def run_light(root: Path, name: str) -> None:
    """PID 1 of a new PID namespace: pivot into the host's root and hand over to tini."""
    socket.sethostname(name)
    _light_mounts(root)
    (root / OLD_ROOT).mkdir(exist_ok=True)
    subprocess.run(["pivot_root", str(root), str(root / OLD_ROOT)], check=True)
    os.chdir("/")
    if _libc.umount2(f"/{OLD_ROOT}".encode(), MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount of the old root")
    os.rmdir(f"/{OLD_ROOT}")
    os.execv("/usr/bin/tini", ["tini", "-g", "--", "/usr/local/sbin/lab-light-init"])


def nspawn_argv(root: Path, name: str, deny_syscalls: list[str]) -> list[str]:
    """systemd-nspawn boots the host's own systemd in the network namespace it is started in (no
    --private-network): the machine's, where the host's sshd and sendmail bind only its loopback
    address, or an own-network host's own. Denied system calls fail with EPERM for every process
    of the host, its systemd included."""
    argv = [
        "systemd-nspawn", "--quiet", "--directory", str(root), "--machine", name,
        "--register=no", "--keep-unit", "--boot", "--console=passive",
        "--resolv-conf=off", "--timezone=off", "--link-journal=no",
    ]
    if deny_syscalls:
        argv.append("--system-call-filter=~" + " ".join(deny_syscalls))
    return argv


def run_systemd(root: Path, name: str, deny_syscalls: list[str]) -> None:
    os.execvp("systemd-nspawn", nspawn_argv(root, name, deny_syscalls))


def main(hostdir: Path) -> None:
    spec = json.loads((hostdir / "host.json").read_text())
    root = mount_overlay(hostdir, spec["base"])
    done = hostdir / "setup-done"
    if not done.exists():
        setup_host(root, spec["name"], spec["address"], spec["profile"], spec["public_key"],
                   spec.get("network", "shared"))
        done.touch()
    if spec["backend"] == "light":
        run_light(root, spec["name"])
    else:
        run_systemd(root, spec["name"], spec.get("deny_syscalls", []))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
