"""Debian packages the lab needs on the machine that runs it, installed when missing."""
from __future__ import annotations

import os
import shutil
import subprocess

from mailsec_lab.log import say

# command → Debian package that provides it
TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "systemd-nspawn": "systemd-container",
    "systemd-analyze": "systemd",
    "zstd": "zstd",
    "unshare": "util-linux",
    "ssh-keygen": "openssh-client",
    "ssh": "openssh-client",
    "ip": "iproute2",
    "nsenter": "util-linux",
    "openssl": "openssl",
    "saslpasswd2": "sasl2-bin",
}


def ensure(*commands: str) -> None:
    missing = sorted({TOOLS[c] for c in commands if shutil.which(c) is None})
    if not missing:
        return
    say(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdin=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=True, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
