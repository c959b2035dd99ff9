"""Debian minbase root filesystems, made with mmdebstrap from this machine's mirror: the lab's host
images, the execution environment's base image and the roots newer ansible-core releases run in."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from mailsec_lab import config, deps
from mailsec_lab.log import say
from mailsec_lab.mirror import debian_mirror


def minbase_tar(release: str, packages: Sequence[str], target: Path, hooks: Sequence[str] = (),
                what: str = "image") -> Path:
    """A tarball (the suffix picks the compression) of a minbase `release` with `packages`, without
    documentation or translations; `hooks` are mmdebstrap customize hooks ("$1" is the root)."""
    deps.ensure("mmdebstrap", "zstd")
    target.parent.mkdir(parents=True, exist_ok=True)
    # The host's sources name its own suites; a one-line source for the wanted suite works for any.
    source = f"deb {debian_mirror()} {release} main"
    partial = target.with_name(target.name.replace(".tar", ".partial.tar", 1))
    cmd = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(packages)]
    cmd += [f"--dpkgopt=path-exclude={p}" for p in config.DPKG_EXCLUDES]
    cmd += [f"--customize-hook={hook}" for hook in hooks]
    cmd += ["--dpkgopt=path-include=/usr/share/doc/*/copyright", release, str(partial), source]
    say(f"building the {release} {what} with mmdebstrap (about a minute)")
    started = time.monotonic()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise SystemExit(f"mmdebstrap failed for {release}:\n{proc.stderr[-3000:]}")
    partial.rename(target)
    say(f"{what} {target.name}: {target.stat().st_size / 1e6:.0f} MB, built in {time.monotonic() - started:.0f}s")
    return target
