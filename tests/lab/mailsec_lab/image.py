"""Root-filesystem images: built once per release with mmdebstrap, unpacked once into a base that
every host of that release shares read-only through overlayfs."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from mailsec_lab import config
from mailsec_lab.log import say
from mailsec_lab.rootfs import minbase_tar

# Bump when prepare_base changes, so that cached bases are made again.
BASE_RECIPE = "5"
READY = ".lab-base-ready"

LAB_SSHD = """\
# Lab hosts: root logs in with the lab key only; no DNS look-ups that could stall a login.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
HostKey /etc/ssh/ssh_host_ed25519_key
"""

# PID 1's child on light hosts: sendmail through its init script, as an admin would, then sshd.
LIGHT_INIT = """\
#!/bin/sh
mkdir -p /run/sshd /run/sendmail
/etc/init.d/sendmail start >/var/log/lab-sendmail-start.log 2>&1 || echo "sendmail did not start" >&2
exec /usr/sbin/sshd -D -e
"""


def image_path(release: str) -> Path:
    return config.cache_dir() / "images" / f"{release}.tar.zst"


def base_path(release: str) -> Path:
    """One folder per recipe: a host keeps the base it was made from while a newer one is built."""
    return config.cache_dir() / "base" / f"{release}-{BASE_RECIPE}-{_recipe_id(release)}"


def _recipe_id(release: str) -> str:
    recipe = "|".join((release, *config.PACKAGES, *config.DPKG_EXCLUDES, *config.KEPT_DEBS, config.KEPT_DEBS_DIR))
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def build_image(release: str, force: bool = False) -> Path:
    """mmdebstrap straight to a .tar.zst; the mirror comes from this machine's apt sources."""
    target = image_path(release)
    stamp = target.with_suffix(".recipe")
    if target.is_file() and not force and stamp.is_file() and stamp.read_text() == _recipe_id(release):
        return target
    keep = " ".join(f'"$1"/var/cache/apt/archives/{name}_*.deb' for name in config.KEPT_DEBS)
    minbase_tar(release, config.PACKAGES, target,
                hooks=[f'mkdir -p "$1{config.KEPT_DEBS_DIR}" && cp {keep} "$1{config.KEPT_DEBS_DIR}/"'])
    stamp.write_text(_recipe_id(release))
    return target


def ensure_base(release: str) -> Path:
    """The unpacked, lab-prepared root filesystem of a release (lower layer of its hosts)."""
    base = base_path(release)
    ready = base / READY
    image = build_image(release)
    want = f"{image.stat().st_mtime_ns}"
    if ready.is_file() and ready.read_text() == want:
        return base
    say(f"unpacking the {release} base")
    partial = base.with_name(base.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    subprocess.run(["tar", "--zstd", "-xpf", str(image), "-C", str(partial)], check=True)
    prepare_base(partial)
    (partial / READY).write_text(want)
    if base.exists():  # made from an older image of the same recipe: hosts of it keep running
        base.rename(base.with_name(f"{base.name}.old-{want}"))
    partial.rename(base)
    return base


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def prepare_base(root: Path) -> None:
    """What every lab host of a release shares; what differs per host is done in hostsetup."""
    # A missing resolver must not stall sendmail's start-up or an ssh login.
    nss = root / "etc/nsswitch.conf"
    nss.write_text("".join(
        "hosts:          files\n" if line.startswith("hosts:") else line
        for line in nss.read_text().splitlines(keepends=True)))
    # Host keys are made per host; sshd loads only the one the lab makes.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    _write(root / "etc/ssh/sshd_config.d/lab.conf", LAB_SSHD)
    _write(root / "usr/local/sbin/lab-light-init", LIGHT_INIT, 0o755)
    # mmdebstrap runs no presets: trixie's sendmail.service would stay disabled.
    unit = root / "usr/lib/systemd/system/sendmail.service"
    wants = root / "etc/systemd/system/multi-user.target.wants/sendmail.service"
    if unit.is_file() and not wants.exists():
        wants.parent.mkdir(parents=True, exist_ok=True)
        wants.symlink_to("/usr/lib/systemd/system/sendmail.service")
    # No getty on a host nobody logs into on a console.
    for unit_name in ("console-getty.service", "getty@.service", "systemd-networkd-wait-online.service"):
        masked = root / "etc/systemd/system" / unit_name
        if not masked.exists():
            masked.symlink_to("/dev/null")
    for user in config.USERS:
        subprocess.run(["chroot", str(root), "useradd", "--create-home", "--shell", "/bin/bash", user],
                       check=True, stdin=subprocess.DEVNULL)
    (root / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
