"""Where the lab keeps things and what its images hold."""
from __future__ import annotations

import os
from pathlib import Path

RELEASES = ("bookworm", "trixie", "bullseye")
BACKENDS = ("light", "systemd")
# "shared": the machine's network, on a loopback address of the host's own; "own": a network
# namespace of the host's own, reached over a veth pair (see netns).
NETWORKS = ("shared", "own")
PROFILES = ("stock", "legacy", "handedit", "nocf", "gwpath", "setreuid", "setuid", "smtpdebug", "forwards", "tls", "tlsweak", "el9")

# One image serves both backends: systemd is there for the systemd backend, tini for the light one.
PACKAGES = (
    "sendmail", "sendmail-cf", "openssh-server", "python3",
    "tini", "procps", "systemd", "systemd-sysv",
)
# Kept in the image (in KEPT_DEBS_DIR) so that tests can reinstall them without a network, as a
# package upgrade would: it must not bring back the set-user-id bits the hardening removed.
KEPT_DEBS = ("sendmail-bin", "sensible-mda")
KEPT_DEBS_DIR = "/opt/mailsec-lab/debs"
# Documentation and translations are dead weight on a test host.
DPKG_EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")

# Ordinary users on every lab host: mail is delivered to them in tests.
USERS = ("alice", "bob")

DOMAIN = "lab.test"
FIRST_ADDRESS = 2  # 127.0.0.1 stays the machine's own.
LAST_ADDRESS = 254


def cache_dir() -> Path:
    """Images and unpacked bases: slow to make, kept between runs."""
    return Path(os.environ.get("MAILSEC_LAB_CACHE", "/var/cache/mailsec-lab"))


def state_dir() -> Path:
    """Hosts, keys and the inventory: the running lab."""
    return Path(os.environ.get("MAILSEC_LAB_STATE", "/var/lib/mailsec-lab"))


def hosts_dir() -> Path:
    return state_dir() / "hosts"


def key_path() -> Path:
    return state_dir() / "ssh" / "id_ed25519"


def inventory_path() -> Path:
    return state_dir() / "inventory.yml"
