"""What a lab host looks like: `stock` is Debian as packaged; `legacy` is a deliberately unsafe host
as found in old fleets. Every item of LEGACY is a finding the audit must report and the hardening
role must fix; the README's lab section lists them from here."""
from __future__ import annotations

import os
import re
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

PROFILE_CHANGES = {"stock": (), "legacy": LEGACY}


def apply_profile(root: Path, profile: str) -> None:
    for change in PROFILE_CHANGES[profile]:
        change.apply(root)


def describe(profile: str) -> list[str]:
    return [c.what for c in PROFILE_CHANGES[profile]]
