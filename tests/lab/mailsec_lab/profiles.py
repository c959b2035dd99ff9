"""What a lab host looks like: `stock` is Debian as packaged; `legacy` is a deliberately unsafe host
as found in old fleets. Every item of LEGACY is a finding the audit must report and the hardening
role must fix. `handedit`, `nocf` and `gwpath` are hosts the tools must cope with: a sendmail.cf
edited by hand, no m4 to build one, a group-writable /etc/mail that sendmail is told to accept.
`setreuid` and `setuid` run a sendmail built here from upstream source with that way of changing
uids (Debian's uses seteuid), `smtpdebug` one built with SMTPDEBUG (the DEBUG command); `forwards` has the .forward and :include: files that only a daemon
able to become their users can read. `el9` is sendmail laid out as RHEL 9's package lays it out, on the
Debian userland (see el9). On own-network hosts OWN_NETWORK adds what only a network of
their own allows: the legacy MTA listens on every address. The README's lab section lists them all
from here."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from mailsec_lab import el9, el9build, el9files, srcbuild, tls

SENDMAIL_BIN = "usr/libexec/sendmail/sendmail"
LEGACY_DONT_BLAME = ("GroupWritableDirPathSafe,GroupWritableAliasFile,GroupWritableForwardFileSafe,"
                     "GroupWritableIncludeFileSafe,ForwardFileInGroupWritableDirPath,"
                     "IncludeFileInGroupWritableDirPath,AssumeSafeChown,TrustStickyBit")


@dataclass(frozen=True)
class Change:
    what: str
    apply: Callable[[Path], None]


def _ids(root: Path, user: str, group: str) -> tuple[int, int]:
    """Owner ids as the host's own passwd and group files say, not this machine's."""
    uid = next(int(line.split(":")[2]) for line in (root / "etc/passwd").read_text().splitlines()
               if line.split(":")[0] == user)
    gid = next(int(line.split(":")[2]) for line in (root / "etc/group").read_text().splitlines()
               if line.split(":")[0] == group)
    return uid, gid


def _own(path: str, user: str, group: str, mode: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        target = root / path
        os.lchown(target, *_ids(root, user, group))
        os.chmod(target, mode)  # after chown, which clears set-id bits
    return apply


def _smrsh_link(name: str, target: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / "etc/mail/smrsh" / name).symlink_to(target)
    return apply


def _statoverride(path: str, user: str, group: str, mode: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        table = root / "var/lib/dpkg/statoverride"
        lines = [ln for ln in table.read_text().splitlines() if not ln.endswith(" /" + path)]
        lines.append(f"{user} {group} {mode:o} /{path}")
        table.write_text("\n".join(lines) + "\n")
    return apply


def _dont_blame(root: Path) -> None:
    """Relax DontBlameSendmail in the .mc (so a rebuild keeps it) and in the installed .cf."""
    mc = root / "etc/mail/sendmail.mc"
    text = mc.read_text()
    define = f"define(`confDONT_BLAME_SENDMAIL', `{LEGACY_DONT_BLAME}')dnl\n"
    text = re.sub(r"^(MAILER_DEFINITIONS|MAILER\()", lambda m: define + m.group(1), text, count=1, flags=re.M)
    mc.write_text(text)
    cf = root / "etc/mail/sendmail.cf"
    cf.write_text(re.sub(r"^O DontBlameSendmail=.*$", "O DontBlameSendmail=" + LEGACY_DONT_BLAME,
                         cf.read_text(), flags=re.M))


LEGACY_MC = ("define(`confPRIVACY_FLAGS', `authwarnings')dnl", "define(`confLOG_LEVEL', `4')dnl",
             "FEATURE(`promiscuous_relay')dnl")


def _rebuild_cf(root: Path) -> None:
    """sendmail.cf made again from sendmail.mc by the host's own m4, as `make -C /etc/mail` would."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    proc = subprocess.run(["chroot", str(root), "m4", "/etc/mail/sendmail.mc"], capture_output=True, text=True,
                          check=False, stdin=subprocess.DEVNULL, env=env, cwd="/")
    if proc.returncode != 0 or "ERROR" in proc.stderr:
        raise SystemExit(f"m4 sendmail.mc failed:\n{proc.stderr}")
    (root / "etc/mail/sendmail.cf").write_text(proc.stdout)


def _legacy_mc(root: Path) -> None:
    """sendmail's own PrivacyOptions (VRFY, EXPN, ETRN and queue runs for anyone), a low LogLevel and an
    open relay in the .mc, after Debian's defines, and the .cf built from it."""
    mc = root / "etc/mail/sendmail.mc"
    lines = "".join(line + "\n" for line in LEGACY_MC)
    mc.write_text(re.sub(r"^(MAILER_DEFINITIONS|MAILER\()", lambda m: lines + m.group(1), mc.read_text(), count=1,
                         flags=re.M))
    _rebuild_cf(root)


LEGACY_ALIASES = ('decode: "|/usr/local/bin/lab-decode"',)
# A stand-in for uudecode that writes nothing: the alias is the finding, not what it does.
LAB_DECODE = """\
#!/bin/sh
# Lab: a decode alias's program; it keeps the message in /var/tmp/lab-decode.mbox.
cat >> /var/tmp/lab-decode.mbox
"""


def _legacy_aliases(root: Path) -> None:
    """Aliases as old fleets have them: a decode alias whose program alice may rewrite; the database rebuilt."""
    program = root / "usr/local/bin/lab-decode"
    program.write_text(LAB_DECODE)
    _own("usr/local/bin/lab-decode", "alice", "alice", 0o775)(root)
    aliases = root / "etc/aliases"
    aliases.write_text(aliases.read_text() + "".join(line + "\n" for line in LEGACY_ALIASES))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    proc = subprocess.run(["chroot", str(root), "/usr/sbin/sendmail", "-bi"], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"newaliases failed:\n{proc.stdout}{proc.stderr}")


def _mail_log(root: Path) -> None:
    (root / "etc/rsyslog.d").mkdir(exist_ok=True)
    (root / "etc/rsyslog.d/lab-mail.conf").write_text("mail.*\t\t\t-/var/log/mail.log\n")
    (root / "var/log/mail.log").write_text("")
    _own("var/log/mail.log", "alice", "alice", 0o666)(root)


LEGACY: tuple[Change, ...] = (
    Change("the sendmail binary is set-user-id root (root:smmsp 6755)",
           _own(SENDMAIL_BIN, "root", "smmsp", 0o6755)),
    Change("dpkg-statoverride pins that mode (root smmsp 6755), so an upgrade keeps it",
           _statoverride(SENDMAIL_BIN, "root", "smmsp", 0o6755)),
    # sendmail refuses a queue owned by anyone but root or TrustedUser: mail must still flow.
    Change("the MTA queue /var/spool/mqueue is world-writable (root:smmsp 0777)",
           _own("var/spool/mqueue", "root", "smmsp", 0o777)),
    Change("the client queue /var/spool/mqueue-client is owned by root instead of smmsp, and world-writable (root:smmsp 0777)",
           _own("var/spool/mqueue-client", "root", "smmsp", 0o777)),
    Change("/etc/mail/sendmail.cf is group-writable (root:smmsp 0664)",
           _own("etc/mail/sendmail.cf", "root", "smmsp", 0o664)),
    Change("/etc/aliases is owned by the ordinary user alice (alice:alice 0644)",
           _own("etc/aliases", "alice", "alice", 0o644)),
    Change("DontBlameSendmail is relaxed further, in sendmail.mc and sendmail.cf: " + LEGACY_DONT_BLAME,
           _dont_blame),
    # Stock Debian sets no RunAsUser either; the legacy host keeps it that way on purpose.
    Change("no RunAsUser: the MTA keeps running as root", lambda root: None),
    Change("/etc/aliases has " + " and ".join(LEGACY_ALIASES) + ", with /usr/local/bin/lab-decode alice:alice 0775, "
           "no postmaster alias (as Debian's), and its database is rebuilt", _legacy_aliases),
    Change("/etc/rsyslog.d/lab-mail.conf sends the mail facility to /var/log/mail.log, which anyone may rewrite "
           "(alice:alice 0666); the lab runs no syslog daemon, the files are what is judged", _mail_log),
    Change("/etc/mail/smrsh/sh links to /bin/sh: smrsh would run any shell command", _smrsh_link("sh", "/bin/sh")),
    Change("sendmail.mc answers SMTP probes, logs little and relays for anyone: " + " ".join(LEGACY_MC)
           + "; sendmail.cf is built from it",
           _legacy_mc),
)


def _mta_on_every_address(root: Path) -> None:
    """The MTA's DAEMON_OPTIONS without Addr=127.0.0.1, and the .cf built again; the MSA stays."""
    mc = root / "etc/mail/sendmail.mc"
    text, n = re.subn(r"^(DAEMON_OPTIONS\(`[^']*\bName=MTA-v4\b[^']*?),\s*Addr=127\.0\.0\.1\b", r"\1", mc.read_text(),
                      count=1, flags=re.M)
    if n != 1:
        raise SystemExit(f"{mc}: no MTA-v4 DAEMON_OPTIONS with Addr=127.0.0.1")
    mc.write_text(text)
    _rebuild_cf(root)


# Only a host with a network namespace of its own can listen beyond loopback without taking the
# machine's addresses: these changes come after the profile's own there, and only there.
OWN_NETWORK: dict[str, tuple[Change, ...]] = {
    "legacy": (
        Change("the MTA (port 25) listens on every address: Addr=127.0.0.1 is gone from the MTA-v4 DAEMON_OPTIONS "
               "of sendmail.mc, sendmail.cf is built from it again; the MSA (port 587) stays on 127.0.0.1",
               _mta_on_every_address),
    ),
}

HAND_EDIT = ("# site limits, added by hand", "O MaxMessageSize=5000000", "O MaxRecipientsPerMessage=50")


def _hand_edit(root: Path) -> None:
    """The lines go right after the last active option of the .cf's options section; Debian's
    commented defaults (`#O MaxMessageSize=0`) stay as they are."""
    cf = root / "etc/mail/sendmail.cf"
    lines = cf.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(r"#\s+Options\s+#$", line))
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"#\s+[A-Z][A-Z ]+[A-Z]\s+#$", lines[i])),
               len(lines))
    last = max(i for i in range(start, end) if lines[i].startswith("O "))
    names = {line.split("=", maxsplit=1)[0] for line in HAND_EDIT if line.startswith("O ")}
    if any(line.split("=", maxsplit=1)[0] in names for line in lines if line.startswith("O ")):
        raise SystemExit(f"{cf}: already sets one of {sorted(names)}")
    lines[last + 1:last + 1] = [line + "\n" for line in HAND_EDIT]
    cf.write_text("".join(lines))


HANDEDIT: tuple[Change, ...] = (
    Change("/etc/mail/sendmail.cf has lines added by hand after its last option: " + "; ".join(HAND_EDIT),
           _hand_edit),
    Change("sendmail.mc is untouched: a rebuild of sendmail.cf from it drops those lines", lambda root: None),
)

NO_CF_PACKAGES = ("sendmail-cf", "m4")


def _purge(root: Path) -> None:
    """dpkg itself removes them, in the host's root, so that its database matches the files;
    --force-depends because sendmail, sendmail-bin and sendmail-base depend on them."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.run(["chroot", str(root), "dpkg", "--purge", "--force-depends", *NO_CF_PACKAGES],
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"dpkg --purge {' '.join(NO_CF_PACKAGES)} failed:\n{proc.stdout}{proc.stderr}")


def _remove(path: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / path).unlink()
    return apply


NOCF: tuple[Change, ...] = (
    Change("the packages sendmail-cf and m4 are purged (dpkg --purge --force-depends): no /usr/bin/m4 and no "
           "/usr/share/sendmail/cf, so sendmail.cf cannot be built from sendmail.mc on the host; sendmail runs "
           "from its installed sendmail.cf", _purge),
    # Debian's init script runs `make all -C /etc/mail` at every start, under `set -e`: with
    # sendmail-cf gone that make stops, and so would the start. Without a Makefile it goes on.
    Change("the generated /etc/mail/Makefile is removed: it needs sendmail-cf's files, and Debian's init "
           "script, which runs it at every start, would stop there", _remove("etc/mail/Makefile")),
)
GWPATH_DONT_BLAME = "GroupWritableDirPathSafe"


def _dont_blame_also(flags: str) -> Callable[[Path], None]:
    """Add flags to Debian's own DontBlameSendmail: in the .mc after DOMAIN(`debian-mta') has set
    it (defn keeps Debian's value), in the .cf on its option line; the .cf stays what the .mc builds."""
    def apply(root: Path) -> None:
        mc = root / "etc/mail/sendmail.mc"
        define = f"define(`confDONT_BLAME_SENDMAIL', defn(`confDONT_BLAME_SENDMAIL')`,{flags}')dnl\n"
        mc.write_text(re.sub(r"^(MAILER_DEFINITIONS|MAILER\()", lambda m: define + m.group(1), mc.read_text(),
                             count=1, flags=re.M))
        cf = root / "etc/mail/sendmail.cf"
        text, n = re.subn(r"^(O DontBlameSendmail=.*)$", lambda m: f"{m.group(1)},{flags}", cf.read_text(),
                          count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"{cf}: no DontBlameSendmail option to extend")
        cf.write_text(text)
    return apply


GWPATH: tuple[Change, ...] = (
    Change("/etc/mail is group-writable (smmta:smmsp 2775)", _own("etc/mail", "smmta", "smmsp", 0o2775)),
    Change(f"DontBlameSendmail adds {GWPATH_DONT_BLAME} to Debian's value, in sendmail.mc and sendmail.cf, "
           "so that sendmail accepts that directory; the .cf stays what the .mc builds",
           _dont_blame_also(GWPATH_DONT_BLAME)),
)


def _built_sendmail(variant: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        shutil.copyfile(srcbuild.build(variant), root / SENDMAIL_BIN)
        _own(SENDMAIL_BIN, "root", "smmsp", 0o2755)(root)
    return apply


def _built(variant: str, listed: str, what: str | None = None) -> tuple[Change, ...]:
    what = what or f"the {variant} method ({srcbuild.VARIANTS[variant][0]}; Debian's is seteuid)"
    return (
        Change(f"the sendmail binary is built on this machine from the upstream source of {srcbuild.RELEASE}'s "
               f"sendmail package, with Debian's NEWDB and FFRs (but its two for STARTTLS), {what} "
               f"and none of Debian's STARTTLS, SASL, LDAP, NETINET6 and other extras: `-d0.10` "
               f"lists {listed}; installed root:smmsp 2755 as Debian ships it, and Debian's configuration stays",
               _built_sendmail(variant)),
    )


SETREUID = _built("setreuid", "HASSETREUID and not USESETEUID (upstream's Linux default)")
SETUID = _built("setuid", "neither HASSETREUID nor USESETEUID")
SMTPDEBUG = _built("smtpdebug", "USESETEUID, HASSETREUID and SMTPDEBUG",
                   f"Debian's seteuid method and SMTPDEBUG ({srcbuild.VARIANTS['smtpdebug'][0]}: the DEBUG and SHOWQ commands answer "
                   "any SMTP client)")

PIPE_NOTE = """\
#!/bin/sh
# Lab: append the message on standard input to the file named as argument, or to piped.mbox in the
# home of the user this runs as (sendmail gives programs no HOME), after a line saying who ran it.
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
out=${1:-$home/piped.mbox}
{ echo "From lab-pipe-note $(date -u +%Y-%m-%dT%H:%M:%SZ) $(id)"; cat; echo; } >>"$out"
"""


def _put(path: str, text: str, user: str, group: str, mode: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / path).write_text(text)
        _own(path, user, group, mode)(root)
    return apply


FORWARDS: tuple[Change, ...] = (
    Change("/usr/local/bin/lab-pipe-note (root:root 0755) appends the message on its standard input to the file "
           "named as its argument, or to piped.mbox in the home of the user it runs as, after a line with its `id`",
           _put("usr/local/bin/lab-pipe-note", PIPE_NOTE, "root", "root", 0o755)),
    Change("/etc/mail/smrsh/lab-pipe-note links to it, so that smrsh may run it too",
           _smrsh_link("lab-pipe-note", "/usr/local/bin/lab-pipe-note")),
    Change("alice's home /home/alice is 0700 (alice:alice)", _own("home/alice", "alice", "alice", 0o700)),
    Change('/home/alice/.forward (alice:alice 0600) is "|/usr/local/bin/lab-pipe-note": her mail lands in '
           "/home/alice/piped.mbox, not /var/mail/alice",
           _put("home/alice/.forward", '"|/usr/local/bin/lab-pipe-note"\n', "alice", "alice", 0o600)),
    Change("/home/bob/.forward (bob:bob 0644, in his 0755 home) is :include:/home/bob/private.list",
           _put("home/bob/.forward", ":include:/home/bob/private.list\n", "bob", "bob", 0o644)),
    Change("/home/bob/private.list (bob:bob 0600) lists \\bob and root: mail to bob lands in /var/mail/bob and "
           "/var/mail/root", _put("home/bob/private.list", "\\bob\nroot\n", "bob", "bob", 0o600)),
)


def _include_tls_and_auth(root: Path, weak: bool = False) -> None:
    """Debian's update_tls and update_auth include their m4 files in sendmail.mc, before the mailers; the
    .cf is built from it again."""
    tls.write_m4(root, weak)
    mc = root / "etc/mail/sendmail.mc"
    lines = "include(`/etc/mail/tls/starttls.m4')dnl\ninclude(`/etc/mail/sasl/sasl.m4')dnl\n"
    mc.write_text(re.sub(r"^(MAILER_DEFINITIONS|MAILER\()", lambda m: lines + m.group(1), mc.read_text(), count=1,
                         flags=re.M))
    _rebuild_cf(root)


TLS: tuple[Change, ...] = (
    Change(f"Debian's {tls.SASL_PACKAGE} (the PLAIN and LOGIN mechanisms) is installed with dpkg", tls.install_sasl_modules),
    Change(f"a key made by the lab, /{tls.KEY} (root:smmsp 0640, as Debian's update_tls makes it), and a certificate "
           f"for it, /{tls.SERVER_CRT} and /{tls.CLIENT_CRT} (root:smmsp 0644)", tls.make_key_and_certificates),
    Change("the key is group-readable", _own(tls.KEY, "root", "smmsp", 0o640)),
    Change("the certificates are readable by all", lambda root: [_own(path, "root", "smmsp", 0o644)(root)
                                                                 for path in (tls.SERVER_CRT, tls.CLIENT_CRT)]),
    Change(f"a SASL database, /{tls.SASLDB} (root:smmsp 0640), with one user, {tls.USER}@{tls.REALM}; "
           f"/{tls.SASL_CONF} (smmta:smmsp 0640, linked from /{tls.SASL_CONF_LINK}) has sendmail read it for PLAIN "
           "and LOGIN", tls.make_sasl_database),
    Change("the database is group-readable", _own(tls.SASLDB, "root", "smmsp", 0o640)),
    Change("the SASL configuration is the MTA user's, as Debian's update_auth leaves it",
           _own(tls.SASL_CONF, "smmta", "smmsp", 0o640)),
    Change("/etc/mail/tls/starttls.m4 names the key and certificates and adds GroupReadableKeyFile to DontBlameSendmail; "
           "/etc/mail/sasl/sasl.m4 sets AuthMechanisms PLAIN LOGIN, trusts them for relaying, the realm lab.test, and "
           "adds GroupReadableSASLDBFile; sendmail.mc includes both before its mailers, as Debian's scripts do, and "
           "sendmail.cf is built from it", _include_tls_and_auth),
)

# `tls`, and what a site does to let old clients in: TLS 1.0 and 1.1 accepted.
TLSWEAK: tuple[Change, ...] = TLS[:-1] + (
    Change(TLS[-1].what.replace("; sendmail.mc includes", "; starttls.m4 also sets CipherList DEFAULT:@SECLEVEL=0 and "
                                "ServerSSLOptions and ClientSSLOptions -SSL_OP_NO_TLSv1 -SSL_OP_NO_TLSv1_1, so that TLS 1.0 "
                                "and 1.1 handshake; sendmail.mc includes"),
           lambda root: _include_tls_and_auth(root, weak=True)),
)

# An EL9 layout on a Debian userland: what RHEL 9's sendmail package lays out, as it lays it out.
EL9: tuple[Change, ...] = (
    Change(f"Debian's {', '.join(el9.DEBIAN_PACKAGES)} are purged (dpkg --purge --force-depends), with what they "
           "leave in /etc/mail, the queues and /var/lib/sendmail, and their users smmta and smmsp; m4 and procmail "
           "stay (RHEL's sendmail-cf needs m4, its sendmail procmail)", el9.purge_debian),
    Change(f"the group mail is gid {el9.MAIL_GID}, as on RHEL (Debian's is 8; Debian's man, which had 12, takes the "
           "first free id above it), and every file follows its group; the user mail stays uid 8, so the .mc's "
           "confDEF_USER_ID 8:12 is mail:mail as on RHEL", el9.renumber_mail_group),
    Change("the mail spool is RHEL's: /var/spool/mail a directory root:mail 0775, /var/mail a link to it, the user "
           "mail's home /var/spool/mail (Debian has /var/mail root:mail 3777 and the link the other way round); "
           "Debian's procmail delivers to /var/mail/USER, so into it",
           el9.spool_as_rhel),
    Change("/usr/bin/procmail is root:root 0755 as RHEL's procmail package ships it (Debian's is root:mail 6755): it "
           "delivers as the recipient only when sendmail runs it as root", el9.procmail_as_rhel),
    Change("the users and groups " + " and ".join(f"{name} ({uid}:{uid})" for name, uid in el9.USERS) +
           f", home /var/spool/mqueue, shell {el9.SHELL} (/sbin links to /usr/sbin on bookworm), made before "
           "the packages as the package's %pre makes them", el9.add_users),
    Change(f"Debian's {' and '.join(el9.HOST_DEBS)} (rpm itself; tinycdb's library for CDB maps) and what they "
           "need that the image lacks, fetched with apt-get on this machine and installed with dpkg",
           el9.install_debs),
    Change("/etc/os-release (in /usr/lib, as Debian has it) says AlmaLinux 9.5, ID_LIKE \"rhel centos fedora\", "
           "PLATFORM_ID platform:el9, VARIANT an EL9 layout on a Debian 12 userland; /etc/almalinux-release, with "
           "/etc/redhat-release and /etc/system-release linked to it, says AlmaLinux release 9.5: Ansible's "
           "os_family is RedHat. /etc/debian_version stays", el9.say_el9),
    Change(f"sendmail, from {srcbuild.RELEASE}'s upstream source (8.17.1.9; RHEL 9 has 8.16.1 with Red Hat's patches) is "
           "built on this machine with the RHEL 9 spec's choices: maps NEWDB (libdb 5, flock locking), CDB, MAP_REGEX, SOCKETMAP, LDAPMAP; "
           "STARTTLS with TLS_EC and DANE (OpenSSL 3), SASL 2, MILTER, NETINET6, PIE and full RELRO; no "
           "USESETEUID, so sendmail's Linux default drops privileges with setreuid (`-d0.10` lists HASSETREUID and "
           "not USESETEUID). Left out: " + "; ".join(el9build.LEFT_OUT), lambda root: None),
    Change(f"the cf tree is the RPM sendmail-cf, installed with `rpm --root HOST -i --nodeps` (a fresh RPM "
           f"database in {el9.DBPATH}, as RHEL has it: /{el9.DBPATH_MACRO} points the host's rpm there, where "
           f"Debian's would use ~/.rpmdb): {el9files.CF_DIR}", el9.install_cf),
    Change("the RPM sendmail, packed by a spec of the lab's with the RHEL 9 package's %files (owners, modes, "
           "%dir, %config(noreplace), %ghost) and installed the same way: /usr/sbin/sendmail.sendmail root:smmsp "
           "2755; mailstats, makemap.sendmail, editmap.sendmail, praliases, smrsh in /usr/sbin and "
           "rmail.sendmail in /usr/bin, 0755; mailq.sendmail, newaliases.sendmail, hoststat, purgestat and "
           "/usr/lib/sendmail.sendmail link to ../sbin/sendmail.sendmail, /usr/bin/makemap to ../sbin/makemap; "
           "/var/spool/mqueue root:mail 0700, /var/spool/clientmqueue smmsp:smmsp 0770, /var/log/mail/statistics "
           "0600, /etc/smrsh; /etc/mail holds sendmail.mc (RHEL's default: DefaultUser 8:12, PrivacyOptions "
           "authwarnings,novrfy,noexpn,restrictqrun, smrsh, procmail as local mailer, but not its blacklist_recipients, "
           "which 8.17's m4 files refuse without access_db, STARTTLS with the pair "
           "below, the MTA on the loopback address only: the host's own here) and submit.mc (sendmail's, its pid "
           "file /run/sm-client.pid), the .cf files the host's m4 builds of them, make, Makefile, helpfile and "
           "the map sources; /etc/sysconfig/sendmail (DAEMON=yes, QUEUE=1h); the units sendmail.service and "
           "sm-client.service in /usr/lib/systemd/system. The spec records the four map databases 0640 and "
           "sm-client.st smmsp:smmsp 0660, as makemap and the %post leave them (RHEL's spec: 0644 and root, which "
           "rpm -V on a new RHEL host would then list: it checks a %ghost's mode and owner), so that rpm -V says nothing on a new host", el9.install_sendmail),
    Change("as the package's %post: /usr/sbin/sendmail, makemap and editmap, /usr/bin/mailq, newaliases and "
           "rmail, /usr/lib/sendmail and /etc/pam.d/smtp link through /etc/alternatives (mta, mta-makemap, ...) "
           f"to their .sendmail files, priority {el9files.ALTERNATIVES_PRIORITY}, with RHEL's state file "
           "/var/lib/alternatives/mta (not Debian's update-alternatives)", el9.set_alternatives),
    Change(f"a self-signed STARTTLS pair as the %post makes it: /{el9.KEY} (RSA 4096) and /{el9.CERT} (SHA-256, a "
           f"year), both root:root 0600; /{el9.CA_BUNDLE}, the bundle the .mc names, is that certificate (0644)",
           el9.make_starttls_pair),
    Change("/var/spool/clientmqueue/sm-client.st (smmsp:smmsp 0660); /etc/aliases with the usual system names "
           "(Debian's was empty); the maps and /etc/aliases.db built by /etc/mail/make", el9.post_install),
    Change("sendmail.service and sm-client.service are enabled; on light hosts the lab's init does what they "
           "do", el9.enable_units),
)

PROFILE_CHANGES = {"stock": (), "legacy": LEGACY, "handedit": HANDEDIT, "nocf": NOCF, "gwpath": GWPATH,
                   "setreuid": SETREUID, "setuid": SETUID, "smtpdebug": SMTPDEBUG, "forwards": FORWARDS, "tls": TLS,
                   "tlsweak": TLSWEAK, "el9": EL9}


def prepare(profile: str, release: str) -> None:
    """What a host of the profile needs from this machine before it is made: the built sendmail,
    which runs on the release this machine is (the build is cached; the host's setup copies it)."""
    if profile in ("tls", "tlsweak"):
        tls.prepare(release)
    if profile == "el9":
        el9.prepare(release)
    if profile in srcbuild.VARIANTS:  # the setreuid, setuid and smtpdebug profiles, named after their variant
        if release != srcbuild.RELEASE:
            raise SystemExit(f"the {profile} profile is for {srcbuild.RELEASE} only: its sendmail is built from "
                             f"{srcbuild.RELEASE}'s source on this machine, not for {release}")
        srcbuild.build(profile)


def apply_profile(root: Path, profile: str, network: str) -> None:
    for change in PROFILE_CHANGES[profile] + (OWN_NETWORK.get(profile, ()) if network == "own" else ()):
        change.apply(root)


def describe(profile: str) -> list[str]:
    return [c.what for c in PROFILE_CHANGES[profile]] + [
        "on own-network hosts only: " + c.what for c in OWN_NETWORK.get(profile, ())]
