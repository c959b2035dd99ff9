# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Host facts around sendmail: set-id files, dpkg statoverrides, running daemons and their pid files."""

from __future__ import annotations

import glob
import grp
import os
import pwd
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEBIAN, places, services

STATOVERRIDE = DEBIAN['statoverride']
DPKG_LISTS = DEBIAN['package_lists']
# Where the sendmail program itself is installed, on every family (see _platform).
SENDMAIL_PROGRAMS = places('programs')
# Where sendmail's programs live, for the families that do not ship package lists.
KNOWN_PATHS = SENDMAIL_PROGRAMS + places('tools')


def user_name(uid: int) -> str:
    """Name of a uid, or the number as text when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    """Name of a gid, or the number as text when it has none."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def parse_statoverride(text: str) -> list:
    """Entries of dpkg's statoverride file: 'owner group mode path' per line."""
    entries = []
    for line in text.splitlines():
        fields = line.split(None, 3)
        if len(fields) == 4 and not line.startswith('#'):
            owner, group, mode, path = fields
            entries.append({'owner': owner, 'group': group, 'mode': mode.zfill(4), 'path': path})
    return entries


def pin_text(entry: dict) -> str:
    """A statoverride entry as 'owner group mode', as the plan's steps and the journal write it."""
    return '%s %s %s' % (entry['owner'], entry['group'], entry['mode'])


def parse_dpkg_list(text: str) -> list:
    """Paths of a dpkg ``.list`` file (one path a line; '/.' is the root)."""
    return [line for line in text.splitlines() if line.startswith('/') and line != '/.']


def setid_entry(path: str, st: os.stat_result) -> dict | None:
    """Report a regular file with a set-user-id or set-group-id bit, else None."""
    if not stat.S_ISREG(st.st_mode) or not st.st_mode & (stat.S_ISUID | stat.S_ISGID):
        return None
    return {
        'path': path,
        'owner': user_name(st.st_uid),
        'group': group_name(st.st_gid),
        'mode': '%04o' % stat.S_IMODE(st.st_mode),
        'setuid': bool(st.st_mode & stat.S_ISUID),
        'setgid': bool(st.st_mode & stat.S_ISGID),
    }


def candidate_paths(extra: tuple = (), list_globs: tuple = DPKG_LISTS) -> list:
    """Sendmail's files: the dpkg package lists where present, the known paths, ``extra``."""
    paths = set(KNOWN_PATHS) | set(extra)
    for pattern in list_globs:
        for listing in glob.glob(pattern):
            with open(listing, encoding='utf-8', errors='replace') as handle:
                paths.update(parse_dpkg_list(handle.read()))
    return sorted(paths)


def setid_files(paths: list) -> list:
    """The set-id regular files among ``paths``; links are not followed (lstat)."""
    found = []
    for path in paths:
        try:
            entry = setid_entry(path, os.lstat(path))
        except OSError:
            continue
        if entry:
            found.append(entry)
    return found


def read_statoverrides(path: str = STATOVERRIDE) -> list:
    """dpkg-statoverride entries, or an empty list where there is no dpkg."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return parse_statoverride(handle.read())
    except OSError:
        return []


def parse_status(text: str) -> dict:
    """Name, parent pid and real/effective uid from a /proc/PID/status text."""
    fields = {}
    for line in text.splitlines():
        key, _sep, value = line.partition(':')
        fields[key] = value.split()
    uids = fields.get('Uid', [])
    return {
        'name': ' '.join(fields.get('Name', [])),
        'ppid': int(fields['PPid'][0]) if fields.get('PPid') else None,
        'uid': int(uids[0]) if uids else None,
        'euid': int(uids[1]) if len(uids) > 1 else None,
    }


def process_role(title: str) -> str:
    """Role of a sendmail process from the title it sets for itself."""
    if 'accepting connections' in title:
        return 'listener'
    if 'Queue runner' in title or 'queue control' in title:
        return 'queue_runner'
    return 'child'


def is_sendmail(status: dict, title: str, exe: str | None = None) -> bool:
    """sendmail rewrites its command line to 'sendmail: ...'; the name covers sendmail.sendmail; the program it
    was started from (/proc/PID/exe) covers a daemon that renamed itself."""
    names = (status['name'], title, os.path.basename(exe or ''))
    return any(name.startswith('sendmail') for name in names)


def _link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _read_process(proc: str, pid: str):
    """(status dict, title, exe) of one process, or None when it vanished or cannot be read."""
    try:
        with open(os.path.join(proc, pid, 'status'), encoding='utf-8', errors='replace') as handle:
            status = parse_status(handle.read())
        with open(os.path.join(proc, pid, 'cmdline'), 'rb') as handle:
            title = handle.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    except OSError:
        return None
    return status, title, _link(os.path.join(proc, pid, 'exe'))


def _process_entry(pid: int, status: dict, title: str, exe: str | None) -> dict:
    return {
        'pid': pid,
        'ppid': status['ppid'],
        'title': title,
        'role': process_role(title),
        'user': user_name(status['uid']) if status['uid'] is not None else None,
        'effective_user': user_name(status['euid']) if status['euid'] is not None else None,
        'exe': exe,
    }


def daemon_processes(proc: str = '/proc') -> list:
    """The running sendmail processes with their users, roles and programs (``exe``, as /proc/PID/exe names it).

    Processes of another pid namespace (a container's) are left out: their sendmail is not this host's.
    """
    found = []
    pids = sorted((entry for entry in os.listdir(proc) if entry.isdigit()), key=int) if os.path.isdir(proc) else []
    own = _link(os.path.join(proc, 'self', 'ns', 'pid'))
    for pid in pids:
        read = _read_process(proc, pid)
        if not read or not is_sendmail(*read):
            continue
        namespace = _link(os.path.join(proc, pid, 'ns', 'pid'))
        if own and namespace and namespace != own:
            continue
        found.append(_process_entry(int(pid), *read))
    return found


# Where the MTA daemon writes its pid on each family, for a host whose sendmail cannot say.
PID_FILES = places('pid_files')


def pid_file_daemons(pid_files=PID_FILES, proc: str = '/proc') -> list:
    """The live processes sendmail's pid files name (their first line), with the pid file: ``pid_file`` added."""
    found = []
    for path in pid_files:
        try:
            with open(path, encoding='utf-8', errors='replace') as handle:
                pid = handle.readline().strip()
        except OSError:
            continue
        if not pid.isdigit():
            continue
        read = _read_process(proc, pid)
        if read:
            found.append(dict(_process_entry(int(pid), *read), pid_file=path))
    return found


def mta_running(pid_file: str | None, proc: str = '/proc') -> bool:
    """Whether the MTA daemon runs: the process its pid file names is alive and is sendmail; where sendmail names
    no pid file, a sendmail process accepts connections. A stale pid file (the daemon stopped, its number
    reused by another program) does not count."""
    if not pid_file:
        return any(item['role'] == 'listener' for item in daemon_processes(proc))
    try:
        with open(pid_file, encoding='utf-8', errors='replace') as handle:
            pid = handle.readline().strip()
    except OSError:
        return False
    read = _read_process(proc, pid) if pid.isdigit() else None
    return bool(read) and is_sendmail(*read)


# Where the service manager of each platform keeps the MTA's unit or script.
SERVICE_FILES = services()


def service_name(exists=os.path.exists) -> str | None:
    """The name of the service that runs the MTA, as this host's service manager knows it; None when none is found."""
    for name, files in SERVICE_FILES.items():
        if any(exists(path) for path in files):
            return name
    return None


def running_older_than(pid_file: str | None, path: str) -> bool:
    """Whether the daemon the pid file names runs, and started (wrote the pid file) before ``path`` last changed."""
    try:
        with open(pid_file or '', encoding='utf-8', errors='replace') as handle:
            pid = int(handle.readline().strip())
        os.kill(pid, 0)
        return os.stat(pid_file).st_mtime_ns < os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return False
