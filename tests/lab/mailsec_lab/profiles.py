"""What a lab host looks like: `stock` is Debian as packaged; `legacy` is a deliberately unsafe host
as found in old fleets. Every item of LEGACY is a finding the audit must report and the hardening
role must fix. `handedit`, `nocf` and `gwpath` are hosts the tools must cope with: a sendmail.cf
edited by hand, no m4 to build one, a group-writable /etc/mail that sendmail is told to accept. The
README's lab section lists them all from here."""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

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
)

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

PROFILE_CHANGES = {"stock": (), "legacy": LEGACY, "handedit": HANDEDIT, "nocf": NOCF, "gwpath": GWPATH}


def apply_profile(root: Path, profile: str) -> None:
    for change in PROFILE_CHANGES[profile]:
        change.apply(root)


def describe(profile: str) -> list[str]:
    return [c.what for c in PROFILE_CHANGES[profile]]
