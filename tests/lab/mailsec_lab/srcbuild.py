"""sendmail built here from upstream source, with another way of changing uids than Debian's.

The source is the upstream tarball (`.orig`) of Debian's bookworm `sendmail` source package, fetched
with `apt-get source` through a private apt configuration; the build is sendmail's own `sh Build` of
the sendmail binary alone. This machine is Debian 12, so the binary runs on bookworm hosts. Each
variant is built once per recipe and cached, like the images.
"""
from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mailsec_lab import config
from mailsec_lab.log import say
from mailsec_lab.mirror import debian_mirror

RELEASE = "bookworm"
ENSURE_DEB = Path(__file__).resolve().parents[2] / "tools/ensure-deb.sh"
BUILD_DEPS = ("gcc", "make", "m4", ":libc6-dev", ":libdb-dev")

# The uid-change method, picked in include/sm/conf.h: USESETEUID, else HASSETREUID, else setuid.
# Upstream's Linux section sets USESETEUID 0 and its BSD part HASSETREUID 1; Debian forces
# USESETEUID=1. What `-d0.10` then lists in its OS Defines, of the two:
VARIANTS = {
    "setreuid": ("-DUSESETEUID=0", {"HASSETREUID"}),
    "setuid": ("-DUSESETEUID=0 -DHASSETREUID=0", set()),
    # Debian's seteuid, plus the SMTP DEBUG and SHOWQ commands (srvrsmtp.c) that Debian leaves out.
    "smtpdebug": ("-DUSESETEUID=1 -DSMTPDEBUG=1", {"USESETEUID", "HASSETREUID"}),
}
# Shared by every variant: Debian's build of 8.17 (debian/configure.ac) without the libraries it
# links (TLS, SASL, LDAP, ...), so that Debian's configuration works as it is: its hash maps need
# NEWDB (libdb 5, which builds only with flock locking), its .cf files use options and macros of
# its FFRs (RejectNUL, {mail_from}); all of Debian's but the two that need STARTTLS.
DEBIAN_FFRS = ("_FFR_BADRCPT_SHUTDOWN", "_FFR_MAIL_MACRO", "_FFR_NO_PIPE", "_FFR_QUEUE_SCHED_DBG",
               "_FFR_REJECT_NUL_BYTE", "_FFR_RESET_MACRO_GLOBALS", "_FFR_RHS", "_FFR_SHM_STATUS",
               "_FFR_SKIP_DOMAINS")
SITE_CONFIG = """\
APPENDDEF(`confMAPDEF', `-DNEWDB')
APPENDDEF(`confLIBS', `-ldb')
APPENDDEF(`confENVDEF', `-DHASFLOCK=1 -DHASGETUSERSHELL=1')
APPENDDEF(`confENVDEF', `{envdef}')
APPENDDEF(`conf_sendmail_ENVDEF', `-D_PATH_SENDMAILPID=\\"/var/run/sendmail/mta/sendmail.pid\\" -DIP_SRCROUTE=1')
APPENDDEF(`conf_sendmail_ENVDEF', `{ffrs}')
"""


def builds_dir() -> Path:
    return config.cache_dir() / "builds"


def site_config(variant: str) -> str:
    return SITE_CONFIG.format(envdef=VARIANTS[variant][0], ffrs=" ".join(f"-D{ffr}" for ffr in DEBIAN_FFRS))


def _apt_source(workdir: Path) -> Path:
    """`apt-get source --download-only sendmail` with its own sources list, lists and cache, so
    this machine's apt configuration and state stay as they are; apt checks the files against
    the signed index. Returns the .dsc."""
    etc = workdir / "apt"
    for sub in ("parts", "lists/partial", "cache/archives/partial"):
        (etc / sub).mkdir(parents=True)
    (etc / "sources.list").write_text(f"deb-src {debian_mirror()} {RELEASE} main\n")
    options = [f"-oDir::Etc::SourceList={etc / 'sources.list'}", f"-oDir::Etc::SourceParts={etc / 'parts'}",
               f"-oDir::State::Lists={etc / 'lists'}", f"-oDir::Cache={etc / 'cache'}",
               "-oAPT::Sandbox::User=root"]
    for args in (["update"], ["source", "--download-only", "sendmail"]):
        proc = subprocess.run(["apt-get", "-q", *options, *args], cwd=workdir, capture_output=True, text=True,
                              check=False, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise SystemExit(f"apt-get {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return next(workdir.glob("sendmail_*.dsc"))


def source_tarball() -> Path:
    """The upstream tarball, kept in builds/src once fetched."""
    src = builds_dir() / "src"
    kept = sorted(src.glob("sendmail_*.orig.tar.gz"))
    if kept:
        return kept[-1]
    say(f"fetching the source of {RELEASE}'s sendmail package with apt-get source")
    src.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=builds_dir()) as tmp:
        dsc = _apt_source(Path(tmp))
        sums = dsc.read_text().split("Checksums-Sha256:", 1)[1]
        found = re.search(r"^ (\w{64}) \d+ (sendmail_[^ ]+\.orig\.tar\.gz)$", sums, re.M)
        if not found:
            raise SystemExit(f"{dsc.name}: no sha256 of an upstream tarball in it")
        digest, name = found.groups()
        if hashlib.sha256((Path(tmp) / name).read_bytes()).hexdigest() != digest:
            raise SystemExit(f"{name}: its sha256 is not the one {dsc.name} gives")
        shutil.move(Path(tmp) / name, src / name)
    return src / name


def version(tarball: Path) -> str:
    return tarball.name.removeprefix("sendmail_").removesuffix(".orig.tar.gz")


def os_defines(d0_10: str) -> set[str]:
    """The words of `OS Defines:` in `sendmail -d0.10` output (wrapped over tab-indented lines)."""
    block = re.search(r"^\s*OS Defines:(.*(?:\n\t.*)*)", d0_10, re.M)
    return set(block.group(1).split()) if block else set()


def build(variant: str) -> Path:
    """The binary of a variant, built when the cache has none of this recipe."""
    tarball = source_tarball()
    ver = version(tarball)
    out = builds_dir() / f"{ver}-{variant}"
    recipe = f"{ver} {variant} {hashlib.sha256(site_config(variant).encode()).hexdigest()}\n"
    stamp = out / "recipe"
    if stamp.is_file() and stamp.read_text() == recipe:
        return out / "sendmail"
    with open(builds_dir() / ".lock", "w") as lock:  # one build at a time; a second `up` waits
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == recipe:
            return out / "sendmail"
        _build(variant, tarball, out)
        stamp.write_text(recipe)
    return out / "sendmail"


def _build(variant: str, tarball: Path, out: Path) -> None:
    proc = subprocess.run([str(ENSURE_DEB), *BUILD_DEPS], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise SystemExit(f"the build dependencies could not be installed:\n{proc.stdout}{proc.stderr}")
    say(f"building sendmail {version(tarball)} from source, variant {variant} (about 40 s)")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=builds_dir()) as tmp:
        subprocess.run(["tar", "-xzf", str(tarball), "-C", tmp, "--strip-components=1"], check=True)
        (Path(tmp) / "devtools/Site/site.config.m4").write_text(site_config(variant))
        proc = subprocess.run(["sh", "Build", "sendmail"], cwd=Path(tmp) / "sendmail", capture_output=True,
                              text=True, check=False, stdin=subprocess.DEVNULL)
        (out / "build.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise SystemExit(f"sh Build failed for {variant}: see {out / 'build.log'}\n{proc.stderr[-2000:]}")
        shutil.copy2(next(Path(tmp).glob("obj.*/sendmail/sendmail")), out / "sendmail.partial")
    (out / "site.config.m4").write_text(site_config(variant))
    listed = d0_10(out / "sendmail.partial")
    (out / "d0.10.txt").write_text(listed)
    found = os_defines(listed) & {"USESETEUID", "HASSETREUID"}
    if found != VARIANTS[variant][1]:
        raise SystemExit(f"the {variant} build lists {sorted(found) or 'neither'} of USESETEUID and HASSETREUID "
                         f"in -d0.10, not {sorted(VARIANTS[variant][1]) or 'neither'}: see {out / 'd0.10.txt'}")
    (out / "sendmail.partial").rename(out / "sendmail")
    say(f"built {out / 'sendmail'}: OS Defines list {' '.join(sorted(found)) or 'neither USESETEUID nor HASSETREUID'}")


def d0_10(binary: Path) -> str:
    """`sendmail -d0.10 -bt` here. sendmail sleeps a minute when it cannot qualify its host name,
    so it runs in namespaces of its own, with a dotted name that a private /etc/hosts resolves."""
    name = f"srcbuild.{config.DOMAIN}"
    with tempfile.NamedTemporaryFile("w", dir=builds_dir(), suffix=".hosts") as hosts:
        hosts.write(f"127.0.0.1\t{name} localhost\n")
        hosts.flush()
        script = f'mount --bind "$1" /etc/hosts && hostname {name} && exec "$2" -d0.10 -bt'
        return subprocess.run(["unshare", "--uts", "--mount", "sh", "-c", script, "sh", hosts.name, str(binary)],
                              capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
                              timeout=30).stdout
