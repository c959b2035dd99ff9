"""sendmail built here the way the RHEL 9 package builds it, and packaged as RPMs with Debian's rpm tools.

The source is the upstream tarball of bookworm's sendmail package (srcbuild fetches it); the build
choices are those of the RHEL 9 spec's build configuration, as far as Debian's libraries allow (see
CHOICES and LEFT_OUT). Its programs, helpfile and m4 tree are kept in the lab's cache once per recipe.
Two RPMs are made from them by a spec of the lab's own: `sendmail-cf` (the m4 tree, the same for
every host, cached) and `sendmail` (programs, configuration, units), whose configuration files are a
host's own (its address is in them): that one is cached per configuration, so a host made again at
the same address reuses it.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mailsec_lab import srcbuild
from mailsec_lab.log import say

RELEASE = srcbuild.RELEASE
BUILD_DEPS = (*srcbuild.BUILD_DEPS, ":libcdb-dev", ":libssl-dev", ":libsasl2-dev", ":libldap-dev", "rpmbuild:rpm")
# The programs of the RHEL 9 package, in the order its spec builds them (libsmutil first); each
# one's binary, by the name sendmail's Build gives it, and where the package installs it.
DIRS = ("libsmutil", "sendmail", "mailstats", "rmail", "praliases", "smrsh", "makemap", "editmap")
PROGRAMS = {
    "sendmail": "usr/sbin/sendmail.sendmail",
    "mailstats": "usr/sbin/mailstats",
    "rmail": "usr/bin/rmail.sendmail",
    "praliases": "usr/sbin/praliases",
    "smrsh": "usr/sbin/smrsh",
    "makemap": "usr/sbin/makemap.sendmail",
    "editmap": "usr/sbin/editmap.sendmail",
}
# The spec's build configuration, as m4 words: (m4 macro, APPENDDEF or define, value).
CHOICES = (
    # Maps: Berkeley DB hash and btree, tinycdb, regular expressions, socket maps; DNS lookups.
    ("confMAPDEF", "define", "-DNEWDB -DCDB -DMAP_REGEX -DSOCKETMAP -DNAMED_BIND=1"),
    ("confENVDEF", "define", "-Wall -DXDEBUG=0 -DNETINET6 -DUSE_VENDOR_CF_PATH=1 -D_FFR_LINUX_MHNL "
                             "-D_FILE_OFFSET_BITS=64 -DHAS_GETHOSTBYNAME2"),
    ("confLIBS", "define", "-lcrypt -ldb -lcdb -lresolv"),
    # Debian's libdb 5 builds only with flock() locking (RHEL's libdb 5.3 is built the same way).
    ("confENVDEF", "APPENDDEF", "-DHASFLOCK=1"),
    ("confLDOPTS", "define", "-Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now"),
    ("confOPTIMIZE", "define", "-O2 -g -fpie"),
    ("confLIBS", "APPENDDEF", "-pie"),
    ("confSTDIR", "define", "/var/log/mail"),
    ("confLIBSEARCH", "define", "db resolv 44bsd"),
    # STARTTLS with elliptic curves and DANE (OpenSSL 3).
    ("conf_sendmail_ENVDEF", "APPENDDEF", "-DSTARTTLS -D_FFR_TLS_1 -DTLS_EC -D_FFR_TLS_USE_CERTIFICATE_CHAIN_FILE -DDANE"),
    ("conf_sendmail_LIBS", "APPENDDEF", "-lssl -lcrypto"),
    # SMTP AUTH through Cyrus SASL 2.
    ("confENVDEF", "APPENDDEF", "-DSASL=2"),
    ("confLIBS", "APPENDDEF", "-lsasl2 -lcrypto"),
    # Milters.
    ("conf_sendmail_ENVDEF", "APPENDDEF", "-DMILTER"),
    ("confENVDEF", "APPENDDEF", "-D_FFR_MILTER_CHECK_REJECTIONS_TOO"),
    # LDAP maps (OpenLDAP).
    ("confMAPDEF", "APPENDDEF", "-DLDAPMAP -DLDAP_DEPRECATED"),
    ("confENVDEF", "APPENDDEF", "-DSM_CONF_LDAP_MEMFREE=1"),
    ("confLIBS", "APPENDDEF", "-lldap -llber -lssl -lcrypto"),
    # smrsh runs the programs linked in /etc/smrsh (a path the package sets with a patch).
    ("conf_smrsh_ENVDEF", "APPENDDEF", '-DSMRSH_CMDDIR=\\"/etc/smrsh\\"'),
)
# What the RHEL 9 package has and this build has not, and why.
LEFT_OUT = (
    "Red Hat's patches to sendmail 8.16.1 (among them QoS marking, _FFR_QOS, a shared libmilter, the helpfile "
    "without the version, localhost.localdomain refused in SMTP): the source is bookworm's upstream 8.17.1.9 as it is",
    "libmilter and vacation (other packages, or none, on RHEL 9), man pages and documentation",
    "the NetworkManager dispatcher script (no NetworkManager on a lab host)",
    "SELinux (none on a lab host: the client unit's restorecon step is skipped, as its unit allows)",
)


KEEP_RPMS = 16


def site_config() -> str:
    return "".join(f"{kind}(`{macro}', `{value}')\n" for macro, kind, value in CHOICES)


def tree_dir() -> Path:
    return srcbuild.builds_dir() / f"{srcbuild.version(srcbuild.source_tarball())}-el9"


def build() -> Path:
    """The built tree (bin/, helpfile, cf/), made when the cache has none of this recipe."""
    tarball = srcbuild.source_tarball()
    out = tree_dir()
    recipe = f"{srcbuild.version(tarball)} el9 {hashlib.sha256(site_config().encode()).hexdigest()}\n"
    stamp = out / "recipe"
    if stamp.is_file() and stamp.read_text() == recipe:
        return out
    with locked():
        if not (stamp.is_file() and stamp.read_text() == recipe):
            _build(tarball, out)
            stamp.write_text(recipe)
    return out


@contextlib.contextmanager
def locked():
    """One build or fetch into the cache at a time, across `up` commands and the setups of their hosts."""
    srcbuild.builds_dir().mkdir(parents=True, exist_ok=True)
    with open(srcbuild.builds_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
                          env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def _build(tarball: Path, out: Path) -> None:
    _run([str(srcbuild.ENSURE_DEB), *BUILD_DEPS])
    say(f"building sendmail {srcbuild.version(tarball)} from source as RHEL 9 builds it: {' '.join(DIRS)} (about a minute)")
    shutil.rmtree(out, ignore_errors=True)
    (out / "bin").mkdir(parents=True)
    log = []
    with tempfile.TemporaryDirectory(dir=srcbuild.builds_dir()) as tmp:
        src = Path(tmp)
        subprocess.run(["tar", "-xzf", str(tarball), "-C", tmp, "--strip-components=1"], check=True)
        (src / "devtools/Site/site.config.m4").write_text(site_config())
        env = dict(os.environ, MAKEFLAGS=f"-j{os.cpu_count() or 1}")
        for sub in DIRS:
            log.append(_run(["sh", "Build"], cwd=src / sub, env=env))
        obj = next(src.glob("obj.*"))
        for name in PROGRAMS:
            shutil.copy2(obj / name / name, out / "bin" / name)
        shutil.copy2(src / "sendmail/helpfile", out / "helpfile")
        shutil.copytree(src / "cf", out / "cf", symlinks=True)
    (out / "cf/cf/README").unlink(missing_ok=True)  # as the package: the cf tree's own README stays
    (out / "build.log").write_text("".join(log))
    (out / "site.config.m4").write_text(site_config())
    listed = srcbuild.d0_10(out / "bin/sendmail")
    (out / "d0.10.txt").write_text(listed)
    found = srcbuild.os_defines(listed) & {"USESETEUID", "HASSETREUID"}
    if found != {"HASSETREUID"}:
        raise SystemExit(f"the el9 build lists {sorted(found) or 'neither'} of USESETEUID and HASSETREUID in -d0.10, "
                         f"not HASSETREUID alone: see {out / 'd0.10.txt'}")
    say(f"built {out}: OS Defines list HASSETREUID and not USESETEUID")


def rpmbuild(spec: str, stage: Path, out: Path) -> Path:
    """One binary RPM of the spec, its files copied from `stage`; written to `out`, which it returns."""
    with tempfile.TemporaryDirectory(dir=srcbuild.builds_dir()) as tmp:
        (Path(tmp) / "pkg.spec").write_text(spec)
        defines = {"_topdir": tmp, "stage": str(stage), "_binary_payload": "w1.gzdio", "__os_install_post": "%{nil}",
                   "debug_package": "%{nil}", "_build_id_links": "none", "_source_date_epoch_from_changelog": "0"}
        argv = ["rpmbuild", "-bb", "--quiet", "--nodeps"]
        for name, value in defines.items():
            argv += ["--define", f"{name} {value}"]
        _run([*argv, str(Path(tmp) / "pkg.spec")])
        built = next(Path(tmp).glob("RPMS/*/*.rpm"))
        out.mkdir(parents=True, exist_ok=True)
        shutil.move(built, out / built.name)
        return out / built.name


def cached_rpm(kind: str, spec: str, stage_files: dict[str, bytes] | None, make_stage) -> Path:
    """The RPM of a spec and the files it packs, built once per (spec, files) and kept beside the tree."""
    digest = hashlib.sha256(spec.encode())
    for path, data in sorted((stage_files or {}).items()):
        digest.update(path.encode() + b"\0" + data + b"\0")
    folder = tree_dir() / "rpms" / f"{kind}-{digest.hexdigest()[:16]}"
    with locked():
        found = sorted(folder.glob("*.rpm"))
        if found:
            os.utime(folder)  # the newest are kept
            return found[0]
        with tempfile.TemporaryDirectory(dir=srcbuild.builds_dir()) as tmp:
            make_stage(Path(tmp))
            built = rpmbuild(spec, Path(tmp), folder)
        _prune(kind)
    return built


def _prune(kind: str) -> None:
    """One RPM a configuration (an address, for `sendmail`) is kept, the KEEP_RPMS newest of a kind."""
    kept = sorted(tree_dir().glob(f"rpms/{kind}-{'?' * 16}"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in kept[KEEP_RPMS:]:
        shutil.rmtree(old, ignore_errors=True)
