"""The `el9` profile: sendmail laid out as the RHEL 9 package lays it out, on the Debian bookworm userland.

Debian's sendmail packages are purged; the ids of the mail group and the package's users are RHEL's;
sendmail and its programs are built here with the RHEL 9 package's choices (el9build), packed into two
RPMs by specs of the lab's own (el9files) and installed into the host with Debian's rpm, so that the
host has a real RPM database to verify; the package's %post is then done as RHEL's does it
(alternatives, the client queue's status file, the maps, a self-signed STARTTLS pair). The host says
it is AlmaLinux 9 in /etc/os-release and /etc/redhat-release, so that Ansible sees the RedHat family.
What stays Debian's: the C library and every other program (procmail, m4, systemd, ...), no SELinux,
and sendmail is 8.17.1.9 (RHEL 9 has 8.16.1, with Red Hat's patches).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mailsec_lab import config, deps, el9build, el9files, image, srcbuild
from mailsec_lab.log import say

RELEASE = el9build.RELEASE
DEBIAN_PACKAGES = ("sendmail", "sendmail-bin", "sendmail-base", "sendmail-cf", "sensible-mda")
# Debian packages the host needs that its image lacks: rpm itself, and tinycdb's library for CDB maps.
HOST_DEBS = ("rpm", "libcdb1")
DEBIAN_LEFTOVERS = ("etc/mail", "var/spool/mqueue", "var/spool/mqueue-client", "var/lib/sendmail")
# RHEL's ids: the group mail is 12 there (Debian's is 8, and 12 is Debian's man); the users are the
# package's %pre's.
MAIL_GID = 12
USERS = (("mailnull", 47), ("smmsp", 51))
SHELL = "/sbin/nologin"
CERT = "etc/pki/tls/certs/sendmail.pem"
KEY = "etc/pki/tls/private/sendmail.key"
CA_BUNDLE = "etc/pki/tls/certs/ca-bundle.crt"
OS_RELEASE = """\
NAME="AlmaLinux"
VERSION="9.5 (Teal Serval)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.5"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.5 (Teal Serval)"
ANSI_COLOR="0;34"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
VARIANT="mailsec lab: an EL9 sendmail layout on a Debian 12 userland"
VARIANT_ID="mailsec-lab"
"""
RELEASE_LINE = "AlmaLinux release 9.5 (Teal Serval)\n"
ALIASES = """\
# Where mail to system names goes (written by the lab for the el9 profile).
mailer-daemon:\tpostmaster
postmaster:\troot
abuse:\t\troot
bin:\t\troot
daemon:\t\troot
nobody:\t\troot
mail:\t\troot
mailnull:\troot
smmsp:\t\troot
"""
LIGHT_INIT = """\
#!/bin/sh
# PID 1's child on a light el9 host: what sendmail.service and sm-client.service start, then sshd.
mkdir -p /run/sshd
{
    /etc/mail/make
    /etc/mail/make aliases
    /usr/sbin/sendmail -bd -q1h
    touch /run/sm-client.pid && chown smmsp:smmsp /run/sm-client.pid
    /usr/sbin/sendmail -L sm-msp-queue -Ac -q1h
} >/var/log/lab-sendmail-start.log 2>&1 || echo "sendmail did not start" >&2
exec /usr/sbin/sshd -D -e
"""
UNITS = ("sendmail.service", "sm-client.service")
# Scratch folders in the host's root while it is set up, gone after.
HOST_DEBS_DIR = "tmp/lab-el9-debs"
HOST_MC_DIR = "tmp/lab-el9-mc"
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
# The address each host's MTA listens on, read from Debian's sendmail.mc (as the lab bound it) before
# the purge: setup runs once per host, in a process of its own.
_listen: dict[Path, str] = {}


def _run(argv: list[str], what: str | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"{what or ' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def _in_host(root: Path, *argv: str) -> str:
    """A command in the host's root, under its own host name (sendmail waits when it cannot qualify its name).
    What it says on standard error, but for ERROR lines (m4's), is let through."""
    fqdn = (root / "etc/mailname").read_text().strip()
    proc = subprocess.run(["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec chroot "$@"', fqdn, str(root), *argv],
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, env=ENV)
    if proc.returncode != 0 or "ERROR" in proc.stderr:
        raise SystemExit(f"{' '.join(argv)} failed in the host:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def debs_dir() -> Path:
    return config.cache_dir() / "debs" / "el9"


def prepare(release: str) -> None:
    """The build and the Debian packages the host gets, on this machine, before the host is made."""
    if release != RELEASE:
        raise SystemExit(f"the el9 profile is for {RELEASE} only: its sendmail is built from {RELEASE}'s source "
                         f"on this machine, not for {release}")
    deps.ensure("openssl", "unshare")
    el9build.build()
    _host_debs(image.ensure_base(release))


def _host_debs(base: Path) -> list[Path]:
    """HOST_DEBS and what they need that the base lacks, fetched once with this machine's apt (its lists,
    the base's dpkg status) into the lab's cache."""
    folder = debs_dir()
    stamp = folder / "packages"
    want = " ".join(HOST_DEBS) + " " + base.name + "\n"
    if stamp.is_file() and stamp.read_text() == want:
        return sorted(folder.glob("*.deb"))
    with el9build.locked():
        if stamp.is_file() and stamp.read_text() == want:
            return sorted(folder.glob("*.deb"))
        return _fetch_debs(base, folder, stamp, want)


def _fetch_debs(base: Path, folder: Path, stamp: Path, want: str) -> list[Path]:
    say(f"fetching {' '.join(HOST_DEBS)} and what they need with apt-get")
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "partial").mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["apt-get", "install", "--download-only", "--no-install-recommends", "-y", "-q",
                f"-oDir::State::status={base / 'var/lib/dpkg/status'}", f"-oDir::Cache={tmp}",
                f"-oDir::Cache::archives={folder}", "-oDir::Cache::pkgcache=", "-oDir::Cache::srcpkgcache=",
                "-oAPT::Sandbox::User=root", *HOST_DEBS]
        if subprocess.run(argv, capture_output=True, check=False, stdin=subprocess.DEVNULL).returncode != 0:
            _run(["apt-get", "update", "-q"])  # a new machine may have no package lists yet
            _run(argv)
    shutil.rmtree(folder / "partial", ignore_errors=True)
    (folder / "lock").unlink(missing_ok=True)
    stamp.write_text(want)
    return sorted(folder.glob("*.deb"))


def purge_debian(root: Path) -> None:
    mc = (root / "etc/mail/sendmail.mc").read_text()
    found = re.search(r"^DAEMON_OPTIONS\(`[^']*\bName=MTA-v4\b[^']*\bAddr=([0-9.]+)", mc, re.M)
    _listen[root] = found.group(1) if found else el9files.MTA_ADDRESS
    _run(["chroot", str(root), "dpkg", "--purge", "--force-depends", *DEBIAN_PACKAGES])
    for path in DEBIAN_LEFTOVERS:
        shutil.rmtree(root / path, ignore_errors=True)
    for user in ("smmta", "smmsp"):
        if _entry(root, "passwd", user):
            _run(["chroot", str(root), "userdel", user])
        if _entry(root, "group", user):
            _run(["chroot", str(root), "groupdel", user])


def _entry(root: Path, table: str, name: str) -> list[str] | None:
    for line in (root / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields
    return None


def _free_gid(root: Path, start: int) -> int:
    taken = {int(line.split(":")[2]) for line in (root / "etc/group").read_text().splitlines() if line.count(":") >= 3}
    return next(gid for gid in range(start, 1000) if gid not in taken)


def renumber_mail_group(root: Path) -> None:
    """mail takes gid 12 from man, which takes the first free id above it; files follow their group
    (set-id bits put back after the chown, which clears them)."""
    old_mail = int(_entry(root, "group", "mail")[2])
    moves = {}
    holder = next((line.split(":")[0] for line in (root / "etc/group").read_text().splitlines()
                   if line.split(":")[2:3] == [str(MAIL_GID)]), None)
    if holder and holder != "mail":
        new = _free_gid(root, MAIL_GID + 1)
        _run(["chroot", str(root), "groupmod", "-g", str(new), holder])
        moves[MAIL_GID] = new
    _run(["chroot", str(root), "groupmod", "-g", str(MAIL_GID), "mail"])
    moves[old_mail] = MAIL_GID
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (top == str(root) and d in ("proc", "sys", "dev", "run"))]
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if st.st_gid in moves:
                os.lchown(path, st.st_uid, moves[st.st_gid])
                if not os.path.islink(path):
                    os.chmod(path, st.st_mode & 0o7777)


def procmail_as_rhel(root: Path) -> None:
    """RHEL's procmail is no set-id program: the local mailer needs a root daemon to become the recipient."""
    procmail = root / "usr/bin/procmail"
    os.lchown(procmail, 0, 0)
    os.chmod(procmail, 0o755)  # after chown, which clears set-id bits


def spool_as_rhel(root: Path) -> None:
    """RHEL's mail spool: /var/spool/mail a directory root:mail 0775, /var/mail a link to it, and the user
    mail's home there (Debian has /var/mail root:mail 3777 and the link the other way round). Debian's
    procmail delivers to /var/mail/USER: through the link, into RHEL's spool."""
    spool, old = root / "var/spool/mail", root / "var/mail"
    spool.unlink()
    spool.mkdir()
    for entry in old.iterdir():
        shutil.move(str(entry), spool / entry.name)
    old.rmdir()
    old.symlink_to("spool/mail")
    mail_gid = int(_entry(root, "group", "mail")[2])
    os.chown(spool, 0, mail_gid)
    os.chmod(spool, 0o775)
    _run(["chroot", str(root), "usermod", "-d", "/var/spool/mail", "mail"])


def add_users(root: Path) -> None:
    for name, uid in USERS:
        _run(["chroot", str(root), "groupadd", "-r", "-g", str(uid), name])
        _run(["chroot", str(root), "useradd", "-r", "-u", str(uid), "-g", name, "-d", "/var/spool/mqueue",
              "-s", SHELL, name])


def install_debs(root: Path) -> None:
    folder = root / HOST_DEBS_DIR
    folder.mkdir()
    try:
        names = []
        for deb in _host_debs(image.ensure_base(RELEASE)):
            shutil.copyfile(deb, folder / deb.name)
            names.append(f"/{HOST_DEBS_DIR}/{deb.name}")
        _run(["chroot", str(root), "dpkg", "-i", *names], "dpkg -i " + " ".join(HOST_DEBS))
    finally:
        shutil.rmtree(folder)


def say_el9(root: Path) -> None:
    os_release = root / "usr/lib/os-release"
    os_release.unlink()
    os_release.write_text(OS_RELEASE)
    (root / "etc/almalinux-release").write_text(RELEASE_LINE)
    for name in ("redhat-release", "system-release"):
        (root / "etc" / name).symlink_to("almalinux-release")


# Debian's rpm keeps its database in ~/.rpmdb; RHEL's is in /var/lib/rpm, where the host's rpm is told to look.
DBPATH = "/var/lib/rpm"
DBPATH_MACRO = "etc/rpm/macros.dbpath"


def _rpm_install(root: Path, rpm: Path) -> None:
    macro = root / DBPATH_MACRO
    if not macro.is_file():
        macro.parent.mkdir(parents=True, exist_ok=True)
        macro.write_text(f"# RHEL's place for the RPM database (Debian's rpm would use ~/.rpmdb).\n%_dbpath {DBPATH}\n")
    _run(["rpm", "--root", str(root), "--dbpath", DBPATH, "--force-debian", "-i", "--nodeps", str(rpm)],
         f"rpm -i {rpm.name}")


def install_cf(root: Path) -> None:
    tree = el9build.build()
    version = srcbuild.version(srcbuild.source_tarball())

    def stage(where: Path) -> None:
        shutil.copytree(tree / "cf", where / el9files.CF_DIR.lstrip("/"), symlinks=True)

    marker = {"recipe": (tree / "recipe").read_bytes()}
    _rpm_install(root, el9build.cached_rpm("sendmail-cf", el9files.cf_spec(version), marker, stage))


def _built_cf(root: Path, mc: str) -> str:
    """What the host's m4 builds of an .mc (with sendmail-cf's files installed), without the lines that say
    who built it when, as the package's build drops them."""
    work = root / HOST_MC_DIR
    work.mkdir(exist_ok=True)
    try:
        (work / "in.mc").write_text(mc)
        text = _in_host(root, "m4", f"/{HOST_MC_DIR}/in.mc")
    finally:
        shutil.rmtree(work)
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("##### built by")), None)
    if at is not None:
        del lines[at:at + 4]
    return "".join(lines)


def _package_files(root: Path, address: str) -> dict[str, tuple[bytes, int]]:
    """The sendmail package's regular files (path → content, mode), its configuration made for this host."""
    tree = el9build.build()
    mc = el9files.SENDMAIL_MC.replace(f"Addr={el9files.MTA_ADDRESS},", f"Addr={address},")
    submit = el9files.SUBMIT_MC.replace(f"[{el9files.MTA_ADDRESS}]", f"[{address}]")
    files = {f"/{path}": ((tree / "bin" / name).read_bytes(), 0o755) for name, path in el9build.PROGRAMS.items()}
    files.update({
        "/etc/mail/sendmail.mc": (mc.encode(), 0o644),
        "/etc/mail/submit.mc": (submit.encode(), 0o644),
        "/etc/mail/sendmail.cf": (_built_cf(root, mc).encode(), 0o644),
        "/etc/mail/submit.cf": (_built_cf(root, submit).encode(), 0o644),
        "/etc/mail/helpfile": ((tree / "helpfile").read_bytes(), 0o644),
        "/etc/mail/make": (el9files.MAKE_SCRIPT.encode(), 0o755),
        "/etc/mail/Makefile": (el9files.MAKEFILE.encode(), 0o644),
        "/etc/sysconfig/sendmail": (el9files.SYSCONFIG.encode(), 0o644),
        "/usr/lib/systemd/system/sendmail.service": (el9files.SENDMAIL_SERVICE.encode(), 0o644),
        "/usr/lib/systemd/system/sm-client.service": (el9files.SM_CLIENT_SERVICE.encode(), 0o644),
        "/etc/pam.d/smtp.sendmail": (el9files.PAM_SMTP.encode(), 0o644),
        "/etc/sasl2/Sendmail.conf": (el9files.SASL_CONF.encode(), 0o644),
        "/var/log/mail/statistics": (b"", 0o600),
    })
    files.update({f"/etc/mail/{name}": (text.encode(), 0o644) for name, text in el9files.TABLES.items()})
    for name in el9files.GHOST_MAPS:
        files[f"/etc/mail/{name}"] = (b"", 0o640)
    files["/etc/mail/aliasesdb-stamp"] = (b"", 0o644)
    files["/var/spool/clientmqueue/sm-client.st"] = (b"", 0o660)
    files["/etc/pam.d/smtp"] = (b"", 0o644)
    for _name, link, _target in el9files.ALTERNATIVES[:-1]:
        files[link] = (b"", 0o755)
    return files


# Links inside the package (link → target) and its directories.
PACKAGE_LINKS = {
    "/usr/bin/mailq.sendmail": "../sbin/sendmail.sendmail", "/usr/bin/newaliases.sendmail": "../sbin/sendmail.sendmail",
    "/usr/bin/hoststat": "../sbin/sendmail.sendmail", "/usr/bin/purgestat": "../sbin/sendmail.sendmail",
    "/usr/bin/makemap": "../sbin/makemap", "/usr/lib/sendmail.sendmail": "../sbin/sendmail.sendmail",
}
PACKAGE_DIRS = ("/var/log/mail", "/etc/smrsh", "/etc/mail", "/var/spool/clientmqueue", "/var/spool/mqueue")
# Every file of the package gets one time, so that /etc/mail/make finds each .cf as new as its .mc.
FILE_TIME = 1_700_000_000


def install_sendmail(root: Path) -> None:
    files = _package_files(root, _listen.get(root, el9files.MTA_ADDRESS))
    version = srcbuild.version(srcbuild.source_tarball())

    def stage(where: Path) -> None:
        for path in PACKAGE_DIRS:
            (where / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        for path, (data, mode) in files.items():
            target = where / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, mode)
            os.utime(target, (FILE_TIME, FILE_TIME))
        for link, target in PACKAGE_LINKS.items():
            (where / link.lstrip("/")).symlink_to(target)

    key = {path: data + oct(mode).encode() for path, (data, mode) in files.items()}
    key["links"] = repr(sorted(PACKAGE_LINKS.items())).encode()
    _rpm_install(root, el9build.cached_rpm("sendmail", el9files.sendmail_spec(version), key, stage))


def set_alternatives(root: Path) -> None:
    """What `alternatives --install ... --initscript sendmail` does for the package's %post on a new host: each
    link through /etc/alternatives, and the state file /var/lib/alternatives/mta as RHEL's alternatives
    writes it (the mode, the master link, each slave's name and link in the order given, a blank line,
    then the alternative, its priority and init script, and its slaves' targets)."""
    (root / "etc/alternatives").mkdir(exist_ok=True)
    for name, link, target in el9files.ALTERNATIVES:
        (root / "etc/alternatives" / name).symlink_to(target)
        path = root / link.lstrip("/")
        path.unlink(missing_ok=True)
        path.symlink_to(f"/etc/alternatives/{name}")
    master, slaves = el9files.ALTERNATIVES[0], el9files.ALTERNATIVES[1:]
    lines = ["auto", master[1]]
    for name, link, _target in slaves:
        lines += [name, link]
    lines += ["", master[2], f"{el9files.ALTERNATIVES_PRIORITY} sendmail", *(slave[2] for slave in slaves)]
    state = root / "var/lib/alternatives"
    state.mkdir(parents=True, exist_ok=True)
    (state / "mta").write_text("\n".join(lines) + "\n")


def post_install(root: Path) -> None:
    """The rest of the package's %post: the client queue's status file, the maps and the aliases
    database (its make script, forced), and the STARTTLS pair if none is there."""
    st = root / "var/spool/clientmqueue/sm-client.st"
    st.touch()
    uid, gid = (int(_entry(root, "passwd", "smmsp")[2]), int(_entry(root, "group", "smmsp")[2]))
    os.chown(st, uid, gid)
    os.chmod(st, 0o660)
    aliases = root / "etc/aliases"
    if not aliases.is_file() or not aliases.read_text().strip():
        aliases.write_text(ALIASES)
    _in_host(root, "env", "SM_FORCE_DBREBUILD=1", "/etc/mail/make")
    _in_host(root, "env", "SM_FORCE_DBREBUILD=1", "/etc/mail/make", "aliases")


def make_starttls_pair(root: Path) -> None:
    """RSA 4096 key (0600) and a self-signed SHA-256 certificate for a year (0600), both root's, made here
    with openssl; the CA bundle the .mc names is that certificate (a Debian host has no RHEL bundle)."""
    fqdn = (root / "etc/mailname").read_text().strip()
    for sub in ("certs", "private"):
        (root / "etc/pki/tls" / sub).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        key, crt = os.path.join(work, "key"), os.path.join(work, "crt")
        _run(["openssl", "genrsa", "-out", key, "4096"])
        _run(["openssl", "req", "-new", "-key", key, "-x509", "-sha256", "-days", "365", "-out", crt,
              "-subj", f"/O=mailsec lab/CN={fqdn}/emailAddress=root@{fqdn}"])
        for path, source, mode in ((KEY, key, 0o600), (CERT, crt, 0o600), (CA_BUNDLE, crt, 0o644)):
            (root / path).write_bytes(Path(source).read_bytes())
            os.chmod(root / path, mode)


def enable_units(root: Path) -> None:
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit in UNITS:
        link = wants / unit
        link.unlink(missing_ok=True)
        link.symlink_to(f"/usr/lib/systemd/system/{unit}")
    init = root / "usr/local/sbin/lab-light-init"
    init.write_text(LIGHT_INIT)
    os.chmod(init, 0o755)
