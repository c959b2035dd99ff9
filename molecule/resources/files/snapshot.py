"""Prints one line per file system object under the given trees: path, type, mode, uid, gid, size
and the sha256 of regular files. Two snapshots differ only when something on the host changed."""
from __future__ import annotations

import hashlib
import os
import stat
import sys

# Login records and the journal change with every Ansible connection, whatever the task: measured
# on lab hosts with a bare ansible.builtin.setup run, which changes these four and nothing else.
# sendmail counts every SMTP connection in its statistics file, the audit's own probes of the MTA included: Red Hat's
# package installs it (/var/log/mail/statistics), Debian's creates none.
VOLATILE = ("/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/var/log/journal", "/var/log/mail/statistics")


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def entries(top: str):
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not os.path.join(root, d).startswith(VOLATILE)]
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            if path.startswith(VOLATILE):
                continue
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            digest = sha256(path) if stat.S_ISREG(st.st_mode) else (os.readlink(path) if stat.S_ISLNK(st.st_mode) else "")
            yield f"{path}\t{kind:o}\t{stat.S_IMODE(st.st_mode):04o}\t{st.st_uid}\t{st.st_gid}\t{st.st_size}\t{digest}"


if __name__ == "__main__":
    for tree in sys.argv[1:] or ["/etc", "/usr", "/var"]:
        for line in sorted(entries(tree)):
            print(line)
