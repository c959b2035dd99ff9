"""Lab hosts: create, start, stop, destroy. A host is a folder (overlay upper and work dirs plus
host.json) and, while it runs, one process tree in namespaces of its own. Its network is the
machine's (mode "shared": it binds a loopback address of its own) or, in mode "own", a network
namespace of its own (see netns)."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mailsec_lab import config, deps, image, netns

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Host:
    name: str
    release: str
    profile: str
    backend: str
    address: str
    base: str
    public_key: str
    pid: int = 0
    pid_start: int = 0
    # System calls (or systemd's @groups) the kernel refuses inside the host with EPERM: systemd only.
    deny_syscalls: list[str] = field(default_factory=list)
    network: str = "shared"

    @property
    def dir(self) -> Path:
        return config.hosts_dir() / self.name

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{config.DOMAIN}"

    @property
    def netns(self) -> Path | None:
        """The namespace an own-network host runs in while it runs."""
        return netns.path(self.address) if self.network == "own" else None

    @property
    def smtp_address(self) -> str:
        """Where the host's own MTA is reached from inside the host's network: an own-network host's
        loopback is its own, and Debian's sendmail listens there."""
        return "127.0.0.1" if self.network == "own" else self.address

    def save(self) -> None:
        (self.dir / "host.json").write_text(json.dumps(asdict(self), indent=1))

    def running(self) -> bool:
        return self.pid > 0 and _start_time(self.pid) == self.pid_start


def _start_time(pid: int) -> int:
    """A process is ours while its start time is the one recorded (pids are reused); a zombie
    is gone. Read from stat, which stays readable while the process execs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    fields = stat[stat.rindex(")") + 2:].split()
    return -1 if fields[0] == "Z" else int(fields[19])


def load(name: str) -> Host:
    path = config.hosts_dir() / name / "host.json"
    if not path.is_file():
        raise SystemExit(f"no lab host named {name}: `ls` lists them")
    return Host(**json.loads(path.read_text()))


def all_hosts() -> list[Host]:
    if not config.hosts_dir().is_dir():
        return []
    return [load(p.name) for p in sorted(config.hosts_dir().iterdir()) if (p / "host.json").is_file()]


def lab_key() -> tuple[Path, str]:
    key = config.key_path()
    if not key.is_file():
        deps.ensure("ssh-keygen")
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mailsec-lab", "-f", str(key)],
                       check=True, stdin=subprocess.DEVNULL)
    return key, key.with_suffix(".pub").read_text()


def _free_address(taken: set[str], network: str) -> str:
    if network == "own":
        held = netns.machine_holds()
        for k in netns.NUMBERS:
            if netns.address(k) not in taken and netns.conflict(k, held) is None:
                return netns.address(k)
        raise SystemExit("no free own-network address (198.18.k.2) left for a lab host")
    for n in range(config.FIRST_ADDRESS, config.LAST_ADDRESS + 1):
        address = f"127.0.0.{n}"
        if address not in taken and not any(_port_open(address, p, 0.05) for p in (22, 25)):
            return address
    raise SystemExit("no free loopback address left for a lab host")


def _port_open(address: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


_SYSCALL_NAME = re.compile(r"@?[a-z0-9_]+")


def known_syscalls() -> set[str]:
    """The system calls and @groups this machine's systemd knows: systemd-nspawn skips an unknown
    name without a word, so a typo would leave the host unfiltered."""
    deps.ensure("systemd-analyze")
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True,
                         check=True, stdin=subprocess.DEVNULL).stdout
    return {line.strip() for line in out.splitlines() if _SYSCALL_NAME.fullmatch(line.strip())}


def check_deny_syscalls(name: str, backend: str, deny_syscalls: Sequence[str]) -> None:
    if not deny_syscalls:
        return
    if backend != "systemd":
        raise SystemExit(f"{name}: denying system calls ({','.join(deny_syscalls)}) needs the systemd backend "
                         f"(systemd-nspawn --system-call-filter); the {backend} backend has no system-call filter")
    unknown = sorted(set(deny_syscalls) - known_syscalls())
    if unknown:
        raise SystemExit(f"{name}: unknown system call or group {', '.join(unknown)}: "
                         "`systemd-analyze syscall-filter` lists those systemd-nspawn can deny")


def _check_address(name: str, address: str, network: str, taken: set[str]) -> None:
    if network == "own":
        found = netns.conflict(netns.number(address), netns.machine_holds())
        if address in taken or found:
            raise SystemExit(f"{name}: {address} is not free for an own-network host "
                             f"({'this machine has ' + found if found else 'another lab host has it'})")
    elif not address.startswith("127.") or address in taken or any(_port_open(address, p, 0.05) for p in (22, 25)):
        raise SystemExit(f"{name}: {address} is not a free loopback address (in use, or not 127.x)")


def create(name: str, release: str, profile: str, backend: str, address: str | None = None,
           deny_syscalls: Sequence[str] = (), network: str = "shared") -> Host:
    if (release not in config.RELEASES or profile not in config.PROFILES or backend not in config.BACKENDS
            or network not in config.NETWORKS):
        raise SystemExit(f"{name}: release, profile, backend or network unknown ({release}, {profile}, {backend}, {network})")
    if not name.replace("-", "").isalnum():
        raise SystemExit(f"{name}: a lab host name has letters, digits and dashes only")
    check_deny_syscalls(name, backend, deny_syscalls)
    hostdir = config.hosts_dir() / name
    if (hostdir / "host.json").is_file():
        raise SystemExit(f"lab host {name} exists already: destroy it first")
    base = image.ensure_base(release)
    public_key = lab_key()[1]
    # Hosts of other lab states, or of runs side by side, are not listening yet when made: the
    # machine-wide claims keep two of them from taking the same address.
    with _claims_locked():
        taken = {h.address for h in all_hosts()} | _claimed()
        if address:
            _check_address(name, address, network, taken)
        else:
            address = _free_address(taken, network)
        for sub in ("upper", "work", "merged"):
            (hostdir / sub).mkdir(parents=True, exist_ok=True)
        host = Host(name, release, profile, backend, address, str(base), public_key, deny_syscalls=list(deny_syscalls),
                    network=network)
        host.save()
        (CLAIMS / address).write_text(str(hostdir / "host.json"))
    return host


# Machine-wide (not per lab state): which address each lab host holds (a loopback one, or an
# own-network host's 198.18.k.2, and with it k); gone at reboot.
CLAIMS = Path("/run/mailsec-lab/addresses")


@contextlib.contextmanager
def _claims_locked():
    CLAIMS.mkdir(parents=True, exist_ok=True)
    with open(CLAIMS.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _claimed() -> set[str]:
    """Addresses whose host still exists, in whatever lab state."""
    held = set()
    for claim in CLAIMS.iterdir():
        if Path(claim.read_text()).is_file():
            held.add(claim.name)
        else:
            claim.unlink(missing_ok=True)
    return held


def start(host: Host) -> None:
    """Starts the host in the background; `wait_ready` waits for its sshd and sendmail."""
    if host.running():
        return
    if host.backend == "systemd":
        deps.ensure("systemd-nspawn")
    enter = []
    if host.network == "own":
        # nsenter execs unshare in the host's namespace: host.pid stays the process that runs the host.
        deps.ensure("nsenter")
        enter = ["nsenter", f"--net={netns.up(host.address)}"]
    namespaces = ["--mount", "--uts", "--ipc"]
    if host.backend == "light":
        namespaces += ["--pid", "--fork", "--kill-child"]
    log = open(host.dir / "console.log", "ab")  # noqa: SIM115 - handed to the child
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_DIR))
    proc = subprocess.Popen(
        [*enter, "unshare", *namespaces, "--", sys.executable, "-m", "mailsec_lab.boot", str(host.dir)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True)
    log.close()
    host.pid, host.pid_start = proc.pid, _start_time(proc.pid)
    host.save()


def wait_ready(hosts: list[Host], timeout: float = 90.0) -> None:
    """Ready: sendmail accepts SMTP and sshd answers on the host's address. An own-network host's
    MTA may listen on its own loopback only, which the machine cannot reach: there it is ready once
    its namespace has a socket listening on port 25.

    SMTP is asked first, and sshd only once, after it: each connection to sshd makes it fork, and
    with many hosts booting at once that load makes sendmail refuse connections (RefuseLA), which
    more probing would only keep up. The pause between rounds grows with the hosts still pending.
    """
    deadline = time.monotonic() + timeout
    pending = list(hosts)
    while pending:
        for host in list(pending):
            if not host.running():
                tail = (host.dir / "console.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"lab host {host.name} stopped while starting:\n{tail}")
            smtp = netns.listening(host.pid, 25) if host.network == "own" else _port_open(host.address, 25, 0.2)
            if smtp and _port_open(host.address, 22, 0.2):
                pending.remove(host)
        if pending and time.monotonic() > deadline:
            raise SystemExit("lab hosts not ready in time: " + ", ".join(h.name for h in pending))
        if pending:
            time.sleep(min(0.05 * (1 + len(pending) // 10), 1.0))
    for host in hosts:
        if host.backend == "systemd":
            _wait_booted(host, max(deadline - time.monotonic(), 5))


def ssh_command(host: Host, *command: str) -> list[str]:
    key = config.key_path()
    return ["ssh", "-i", str(key), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", f"root@{host.address}", *command]


def _wait_booted(host: Host, timeout: float) -> None:
    """sshd answers before systemd has finished starting sendmail: wait for the boot to end."""
    proc = subprocess.run(ssh_command(host, "systemctl", "is-system-running", "--wait"), check=False,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    state = proc.stdout.strip()
    if state not in ("running", "degraded"):
        raise SystemExit(f"lab host {host.name} did not finish booting: {state or proc.stderr.strip()}")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def stop(host: Host, grace: float = 15.0) -> None:
    """systemd hosts get an orderly shutdown first; then the whole tree is killed, and an
    own-network host's namespace deleted (also when its process was gone already)."""
    if not host.running():
        _release_network(host)
        host.pid = 0
        host.save()
        return
    if host.backend == "systemd":
        os.kill(host.pid, signal.SIGTERM)  # nspawn asks the host's systemd to power off
        deadline = time.monotonic() + grace
        while host.running() and time.monotonic() < deadline:
            time.sleep(0.1)
    _kill_tree(host.pid)
    _release_network(host)
    host.pid = 0
    host.save()


def _release_network(host: Host) -> None:
    if host.network == "own":
        netns.down(host.address)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def _kill_tree(pid: int) -> None:
    """Kill the process and every descendant (nspawn's child and a light host's PID 1 take their
    PID namespace with them), and return only once none of them runs any more."""
    tree = _tree(pid)
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while any(_start_time(p) != -1 for p in tree) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.02)


def destroy(host: Host) -> None:
    stop(host, grace=0 if host.backend == "light" else 5)
    shutil.rmtree(host.dir)
    with _claims_locked():
        claim = CLAIMS / host.address
        if claim.is_file() and claim.read_text() == str(host.dir / "host.json"):
            claim.unlink()


def sweep() -> list[str]:
    """Whatever an interrupted run left: processes running a lab host's boot that no host.json
    knows, and network namespaces (with their veth) that no lab host of any lab state holds; host
    folders whose process is gone stay as they are (stopped). Says what it removed."""
    root = str(config.hosts_dir()).encode()
    removed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if root in cmdline and (b"mailsec_lab.boot" in cmdline or b"systemd-nspawn" in cmdline):
            _kill_tree(int(proc.name))
            removed.append(f"killed a leftover lab process {proc.name}")
    if shutil.which("ip"):  # without it no lab namespace was ever made
        # Under the lock: a host's claim is made before its namespace and goes after it.
        with _claims_locked():
            for address in sorted(netns.present() - _claimed()):
                netns.down(address)
                removed.append(f"deleted a leftover network namespace {netns.name(address)}")
    return removed
