# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The sendmail binary: where it really is, and what ``-d0.10 -bt`` says about it."""

from __future__ import annotations

import os
import re

from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import MAILER_CONF, places

# Arguments that print version, compile-time defines and file paths; -bt with
# an empty stdin reads the config and exits without touching mail.
D0_ARGS = ('-d0.10', '-bt')

_LABEL = re.compile(r'^\s*([A-Za-z][A-Za-z .-]*):(?:\s+(.*))?$')
_CONF_FILE = re.compile(r'^(\S+)\s+\((.*)\)$')
_WORD_BLOCKS = {'Compiled with': 'compiled_with', 'OS Defines': 'os_defines'}
_CONF_ROLES = {'default for MTA': 'mta', 'default for MSP': 'msp', 'selected': 'selected'}


def _labelled_lines(text: str) -> list:
    """(label, value) pairs; the word blocks wrap over indented lines, which are joined."""
    pairs = []
    for line in text.splitlines():
        match = _LABEL.match(line)
        if match:
            pairs.append([match.group(1).strip(), (match.group(2) or '').strip()])
        elif line[:1] in ('\t', ' ') and pairs and pairs[-1][0] in _WORD_BLOCKS:
            pairs[-1][1] = (pairs[-1][1] + ' ' + line.strip()).strip()
        else:
            pairs.append([None, line.strip()])
    return pairs


def parse_d0(text: str) -> dict:
    """Parse ``sendmail -d0.10 -bt`` output.

    Returns version (None when the text is not sendmail's), compiled_with,
    os_defines, config_files (mta, msp, selected) and pid_file.
    """
    result = {'version': None, 'compiled_with': [], 'os_defines': [], 'config_files': {}, 'pid_file': None}
    pid_files = {}
    for label, value in _labelled_lines(text):
        if label is None:
            if value.startswith('Version ') and result['version'] is None:
                result['version'] = value.split(None, 1)[1]
        elif label in _WORD_BLOCKS:
            result[_WORD_BLOCKS[label]].extend(value.split())
        elif label == 'Conf file':
            _note_path(value, result['config_files'], _CONF_ROLES)
        elif label == 'Pid file':
            _note_path(value, pid_files, {'default': 'default', 'selected': 'selected'})
    result['pid_file'] = pid_files.get('selected', pid_files.get('default'))
    return result


def _note_path(value: str, found: dict, roles: dict) -> None:
    """Record a 'path (role)' value under the role's key."""
    match = _CONF_FILE.match(value)
    if match and match.group(2) in roles:
        found.setdefault(roles[match.group(2)], match.group(1))


def drop_method(os_defines: list) -> str:
    """The uid-changing method sendmail was built with, in conf.h's order."""
    if 'USESETEUID' in os_defines:
        return 'seteuid'
    if 'HASSETREUID' in os_defines:
        return 'setreuid'
    return 'setuid'


def link_chain(path: str, limit: int = 40) -> list:
    """Every path met while following symbolic links from ``path``, ``path`` first.

    The last element is the final target (it may not exist); a loop stops at ``limit``.
    """
    chain = [path]
    current = path
    for _step in range(limit):
        if not os.path.islink(current):
            break
        target = os.readlink(current)
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
        chain.append(current)
    return chain


def parse_mailer_conf(text: str) -> str | None:
    """The program mailwrapper(8) runs for 'sendmail' (FreeBSD, NetBSD)."""
    for line in text.splitlines():
        fields = line.split('#', 1)[0].split()
        if len(fields) >= 2 and fields[0] == 'sendmail':
            return fields[1]
    return None


def resolve_binary(path: str, mailer_conf: str = MAILER_CONF) -> dict:
    """Where ``path`` leads: the link chain (alternatives included) and the real file.

    A mailwrapper in the way is followed through its mailer.conf.
    """
    chain = link_chain(path)
    real = os.path.realpath(chain[-1])
    if os.path.basename(real) == 'mailwrapper' and os.path.isfile(mailer_conf):
        with open(mailer_conf, encoding='utf-8', errors='replace') as handle:
            wrapped = parse_mailer_conf(handle.read())
        if wrapped:
            chain.append(wrapped)
            chain.extend(link_chain(wrapped)[1:])
            real = os.path.realpath(chain[-1])
    return {'path': path, 'chain': chain, 'resolved': real, 'exists': os.path.isfile(real)}


# Where sendmail's program may be when the one asked for is absent or is another MTA's, in the order
# tried after it (see _read_host.SENDMAIL_PROGRAMS for the known places and _read_state.locate for the search).
ALTERNATIVE_LINKS = places('alternatives')
# dpkg's list of the files of the package that ships the program (Debian, Ubuntu).
PACKAGE_LISTS = places('program_lists')
PROGRAM_NAMES = ('sendmail', 'sendmail.sendmail')
_DELETED = ' (deleted)'


def package_programs(text: str) -> list:
    """The sendmail programs a dpkg ``.list`` names, in its order; a directory it lists (/usr/libexec/sendmail,
    named before what it holds) is not one."""
    paths = [line for line in text.splitlines() if line.startswith('/')]
    parents = {os.path.dirname(path) for path in paths}
    return [path for path in paths if os.path.basename(path) in PROGRAM_NAMES and path not in parents]


def exe_path(link: str | None) -> tuple:
    """(path, deleted) of what /proc/PID/exe names; the kernel marks a program removed since it started."""
    if not link:
        return None, False
    if link.endswith(_DELETED):
        return link[:-len(_DELETED)], True
    return link, False


def search_order(asked: str, alternatives=(), programs=(), packaged=(), daemons=()) -> list:
    """(path, how it was found) of the places to ask for sendmail after ``asked``, each once: the alternatives
    links, the known places, the programs package lists name (``(path, list)``) and the programs running
    daemons were started from (``exe``, unless removed since)."""
    found = [(path, 'the alternatives link %s' % path) for path in alternatives]
    found += [(path, 'a known place of sendmail') for path in programs]
    found += [(path, 'the package list %s' % listing) for path, listing in packaged]
    for daemon in daemons:
        path, deleted = exe_path(daemon.get('exe'))
        if path and not deleted:
            found.append((path, 'the program of the running daemon (pid %s)' % daemon['pid']))
    order, seen = [], {asked}
    for path, how in found:
        if path not in seen:
            seen.add(path)
            order.append((path, how))
    return order
