# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""What the package manager says of sendmail's files: ``rpm -V``, on the families whose package records owners and modes
in the rpm database (see _platform).

``rpm -V PACKAGE`` prints one line per file that differs from the database: nine columns of flags (``S`` size, ``M``
mode, ``5`` digest, ``D`` device, ``L`` link, ``U`` owner, ``G`` group, ``T`` mtime, ``P`` capabilities; ``.`` same,
``?`` could not be read), the file's attribute (``c`` configuration, ``d`` documentation, ``g`` ghost, ...) and its
path; ``missing`` in place of the flags for a file that is gone. It exits 1 when a file differs.
"""

from __future__ import annotations

import re

from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import platform

FLAG_WORDS = (('S', 'size'), ('M', 'mode'), ('5', 'digest'), ('D', 'device'), ('L', 'link'), ('U', 'owner'),
              ('G', 'group'), ('T', 'mtime'), ('P', 'capabilities'))
# What the hardening may change on purpose, and what only an edit or a replaced file changes.
ATTRIBUTES = ('mode', 'owner', 'group')
_LINE = re.compile(r'^(?P<flags>[SM5DLUGTP.?]{8,9}|missing)\s+(?P<attr>[acdglr]\s+)?(?P<path>/.*)$')


def parse_rpm_verify(text: str) -> list:
    """The files ``rpm -V`` names: ``{'path', 'flags', 'config', 'ghost', 'missing', 'changed'}`` each, ``changed`` the
    words of the flags that differ (``?``, unreadable, counts as different); a ghost is a file the package records but
    never installs (an update leaves it as it is)."""
    entries = []
    for line in text.splitlines():
        match = _LINE.match(line.rstrip())
        if not match:
            continue
        flags = match.group('flags')
        missing = flags == 'missing'
        changed = [] if missing else [word for (letter, word), seen in zip(FLAG_WORDS, flags) if seen in (letter, '?')]
        attr = (match.group('attr') or '').strip()
        entries.append({'path': match.group('path'), 'flags': flags, 'config': attr == 'c', 'ghost': attr == 'g',
                        'missing': missing, 'changed': changed})
    return entries


def package_verify(run, family: str | None, rpm: str | None) -> dict | None:
    """``{'manager', 'package', 'error', 'entries', 'recorded'}`` of the family's package, read with its package
    manager: ``entries`` as parse_rpm_verify gives them (the read stage lstats their paths with the rest);
    ``recorded``, path to the ``owner``, ``group`` and ``mode`` the database holds for each file the package
    installs (its ghosts, which it never installs, left out). None where the family's package keeps no owners and
    modes to compare with (dpkg: see the statoverride control)."""
    facts = platform(family)
    if facts['package_manager'] != 'rpm':
        return None
    found = {'manager': 'rpm', 'package': facts['package'], 'error': None, 'entries': [], 'recorded': {}}
    if not rpm:
        return dict(found, error='rpm is not installed')
    # Only the files: a dependency rpm finds missing is no difference of sendmail's files.
    rc, out, err = run([rpm, '-V', '--nodeps', '--noscripts', facts['package']])
    entries = parse_rpm_verify(out)
    if rc not in (0, 1) or (rc == 1 and not entries):
        return dict(found, error=(err or out).strip() or 'rpm -V exited %d' % rc)
    rc, out, err = run([rpm, '-q', '--qf', FILES_FORMAT, facts['package']])
    return dict(found, entries=entries, recorded=recorded_files(out) if rc == 0 else {})


# Each file of the package: flags (c configuration, n noreplace, g ghost, ...), owner, group, mode (octal, with the
# file type), path; one a line, tab-separated.
FILES_FORMAT = '[%{FILEFLAGS:fflags}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{FILEMODES:octal}\t%{FILENAMES}\n]'


def recorded_files(text: str) -> dict:
    """Path to the ``owner``, ``group`` and ``mode`` rpm records, from ``rpm -q --qf FILES_FORMAT``; ghosts left out."""
    found = {}
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) != 5 or not fields[4].startswith('/') or 'g' in fields[0]:
            continue
        try:
            mode = int(fields[3], 8) & 0o7777
        except ValueError:
            continue
        found[fields[4]] = {'owner': fields[1], 'group': fields[2], 'mode': '%04o' % mode}
    return found
