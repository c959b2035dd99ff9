"""What makes a host of the shared base this host: name, address, keys, profile. Runs once, on
the host's overlay, before its first start."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from mailsec_lab import config
from mailsec_lab.profiles import apply_profile


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    os.chmod(path, mode)


def _bind_sendmail(root: Path, address: str) -> None:
    """Debian binds the MTA and MSA to 127.0.0.1 and has the MSP submit there: every lab host
    shares the machine's loopback, so each uses its own address, in the .mc and .cf alike, and
    each .cf stays what its .mc builds. (FEATURE(msp) also writes an Addr=127.0.0.1 into
    submit.cf that no daemon listens on: it stays as built.)"""
    listen = (r"Addr=127\.0\.0\.1\b", f"Addr={address}")
    submit = ((r"D\{MTAHost\}\[127\.0\.0\.1\]", f"D{{MTAHost}}[{address}]"), (r"`\[127\.0\.0\.1\]'", f"`[{address}]'"))
    for name, swaps in (("sendmail.mc", (listen,)), ("sendmail.cf", (listen,)), ("submit.mc", submit), ("submit.cf", submit)):
        path = root / "etc/mail" / name
        text = path.read_text()
        for pattern, repl in swaps:
            text = re.sub(pattern, repl, text)
        path.write_text(text)


def setup_host(root: Path, name: str, address: str, profile: str, public_key: str, network: str) -> None:
    fqdn = f"{name}.{config.DOMAIN}"
    _write(root / "etc/hostname", name + "\n")
    _write(root / "etc/mailname", fqdn + "\n")
    _write(root / "etc/hosts", f"127.0.0.1\tlocalhost\n{address}\t{fqdn} {name}\n")
    _write(root / "etc/ssh/sshd_config.d/lab-listen.conf", f"ListenAddress {address}\n")
    key = root / "etc/ssh/ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", fqdn, "-f", str(key)],
                   check=True, stdin=subprocess.DEVNULL)
    _write(root / "root/.ssh/authorized_keys", public_key, 0o600)
    if network == "shared":  # an own-network host's 127.0.0.1 is its own: Debian's binding stays
        _bind_sendmail(root, address)
    apply_profile(root, profile, network)
