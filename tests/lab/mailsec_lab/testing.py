"""What the suites that start lab hosts share: the lab's command line, hosts for a test module, SSH."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent.parent


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mailsec_lab", *args], capture_output=True, text=True,
                          check=check, env=dict(os.environ, PYTHONPATH=str(LAB_DIR)), stdin=subprocess.DEVNULL)


def started(specs: dict):
    """Start hosts (name -> spec without the name) for a test module; yields name -> Host; they go down after."""
    from mailsec_lab import hosts

    try:
        result = lab("up", *(f"{name}:{spec}" for name, spec in specs.items()), check=False)
        assert result.returncode == 0, result.stderr
        yield {name: hosts.load(name) for name in specs}
    finally:
        lab("down", "--missing-ok", *specs)


def started_each(names: dict, spec: str):
    """Start one host per key of ``names`` (key -> host name), its spec ``spec`` with ``{key}`` filled in (a backend,
    a profile); yields key -> Host, as ``started`` does."""
    for found in started({name: spec.format(key=key) for key, name in names.items()}):
        yield {key: found[name] for key, name in names.items()}


def ssh(host, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """A command on a lab host, over the lab's SSH."""
    from mailsec_lab import hosts

    return subprocess.run(hosts.ssh_command(host, command), capture_output=True, text=True, check=check,
                          stdin=subprocess.DEVNULL)
