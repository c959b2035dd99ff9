"""The execution environment's base image: a Debian minbase made by the lab's root-filesystem code and
imported into podman, since no image registry is reachable. `python3 -m mailsec_lab.eebase TAG`."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from mailsec_lab import config
from mailsec_lab.log import say
from mailsec_lab.rootfs import minbase_tar

RELEASE = "bookworm"
# Python for ansible-core and ansible-runner (a venv is made in it), ssh for the managed hosts.
PACKAGES = ("python3", "python3-venv", "ca-certificates", "openssh-client")
LABEL = "org.mailsec.recipe"


def recipe() -> str:
    return hashlib.sha256("|".join((RELEASE, *PACKAGES, *config.DPKG_EXCLUDES)).encode()).hexdigest()[:16]


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=check)


def image_recipe(tag: str) -> str | None:
    """The recipe label of the image `tag`, None when there is no such image."""
    proc = _podman("image", "inspect", tag, check=False)
    if proc.returncode != 0:
        return None
    return ((json.loads(proc.stdout)[0].get("Labels") or {}).get(LABEL))


def ensure(tag: str) -> None:
    """Import the base image unless one of this recipe is there already."""
    want = recipe()
    if image_recipe(tag) == want:
        say(f"base image {tag} is up to date (recipe {want})")
        return
    tarball = config.cache_dir() / "ee" / f"{RELEASE}-ee-base-{want}.tar"
    if not tarball.is_file():
        # Package lists are dropped: the image installs nothing with apt-get without an update first.
        minbase_tar(RELEASE, PACKAGES, tarball, hooks=['rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin'],
                    what="execution environment base")
    env_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    _podman("import", "--change", 'CMD ["/bin/bash"]', "--change", f"ENV PATH={env_path}",
            "--change", f"LABEL {LABEL}={want}", str(tarball), tag)
    say(f"base image {tag} imported from {tarball.name} ({tarball.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 -m mailsec_lab.eebase TAG")
    os.environ.setdefault("CONTAINERS_CONF", str(Path(__file__).resolve().parents[2] / "ee" / "containers.conf"))
    ensure(sys.argv[1])
