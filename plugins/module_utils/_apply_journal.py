# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The hardening's journal on the host: what a run is about to change, and how far it came.

Before its first write a run records, in a directory only root can read, every step it will take with
what the step needs to be undone (the attributes before, the text of a file it replaces, a copy of each
.cf and .mc), and whether the MTA ran. Each step is marked ``begun`` before it is taken and ``done``
after; each phase is marked when it ends. Every write is a whole new file: written, flushed to disk,
renamed over the old one, and the directory flushed, so a run killed at any point leaves either the
journal before a mark or the one after it, never a torn one.

Statuses: ``applying`` (a run is under way, or was killed), ``done`` (a run completed), ``rolled_back``
(a failed or killed run was undone), ``undone`` (a completed run was reverted on request). The last run
that changed something stays in ``journal.json`` until the next run that changes something, so that it
can be undone.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import stat
import tempfile
import uuid

from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import STATE_DIRECTORY

DIRECTORY = STATE_DIRECTORY
NAME = 'journal.json'
FORMAT = 1
# Marked by the module where a restart is needed; removed by the role's handlers once the MTA runs again.
RESTART_MARK = 'restart-pending'


class JournalError(Exception):
    """The journal cannot be read or written; the message names the path."""


def _fsync_directory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str, data: bytes, mode: int = 0o600, uid: int | None = None, gid: int | None = None) -> None:
    """Replace ``path`` by ``data`` (with ``mode``, and ``uid``/``gid`` where given): a temporary file beside it,
    flushed, renamed over it, the directory flushed."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            if uid is not None:
                os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def directory_problem(directory: str) -> str | None:
    """Why the journal's directory cannot be trusted (a link, another user's, writable by others, or so is a directory
    above it); None where it is safe or absent. A journal others could write could have a run undo anything."""
    path = os.path.abspath(directory)
    while True:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISDIR(st.st_mode):
                return '%s is not a directory' % path
            if st.st_uid not in (0, os.geteuid()) or (st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX):
                return '%s is writable by others than root' % path
        if path == os.path.dirname(path):
            return None
        path = os.path.dirname(path)


def ensure_directory(directory: str) -> None:
    """The journal's directory, root's alone (0700); refused where it or a directory above it is not safe."""
    why = directory_problem(directory)
    if why:
        raise JournalError('%s: the hardening keeps its journal in %s only where others than root cannot write; '
                           'nothing was changed.' % (why, directory))
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise JournalError('%s is not a directory of this user; move it away so that the hardening can keep its journal '
                           'there; nothing was changed.' % directory)
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(directory, 0o700)


KEYS = ('run', 'status', 'started', 'daemon', 'phases_done', 'copies', 'steps')


def load(directory: str = DIRECTORY) -> dict | None:
    """The journal of the last run that changed something; None when there is none. Refused where its directory is
    not safe (see ``directory_problem``), or it is not a whole journal of this collection."""
    path = os.path.join(directory, NAME)
    why = directory_problem(directory)
    if why:
        raise JournalError('%s: a journal there is not trusted; nothing was changed.' % why)
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError('%s: %s' % (path, exc.strerror or exc)) from exc
    try:
        journal = json.loads(data.decode('utf-8'))
    except ValueError as exc:
        raise JournalError('%s is not a journal of this collection (%s); move it away and run again.' % (path, exc)) from exc
    if not isinstance(journal, dict) or journal.get('format') != FORMAT:
        raise JournalError('%s has a format this collection does not read; move it away and run again.' % path)
    missing = [key for key in KEYS if key not in journal]
    if missing or not isinstance(journal['steps'], list) or not all(
            isinstance(entry, dict) and {'step', 'record', 'state'} <= set(entry) for entry in journal['steps']):
        raise JournalError('%s is not a whole journal (%s); move it away and run again.' % (
            path, 'no %s' % ', '.join(missing) if missing else 'a step without its record'))
    return journal


def unfinished(journal: dict | None) -> bool:
    """Whether the journal is that of a run that did not end (killed, or the host went down)."""
    return bool(journal) and journal['status'] == 'applying'


class Journal:
    """One run's journal: ``start`` records the plan before the first write, ``mark`` each step and phase."""

    def __init__(self, directory: str = DIRECTORY):
        self.directory = directory
        self.data = None

    @property
    def path(self) -> str:
        return os.path.join(self.directory, NAME)

    def files(self, run: str) -> str:
        """Each run keeps its copies in a folder of its own: the journal never names copies a later run overwrote."""
        return os.path.join(self.directory, 'files.%s' % run)

    def save(self) -> None:
        write_atomically(self.path, json.dumps(self.data, indent=1, sort_keys=True).encode('utf-8'))

    def start(self, entries: list, daemon: dict, copies: dict, inherited: dict | None = None, selection: dict | None = None) -> None:
        """Record the run: ``entries`` (the steps, each with its ``record``; an entry that has a ``state`` keeps it),
        ``daemon`` (whether the MTA ran), ``copies`` (path -> bytes and owner, group, mode of each file a step replaces
        as a whole) and ``selection`` (what the run was asked to do). ``inherited``: the copies a killed run's journal
        kept (path -> its record): the older copy of a path is the one kept.

        The journal it replaces, and that journal's copies, are kept until this run is done (``finish``): a run
        rolled back puts them back (``restore_previous``), so that the last run that changed something can still be
        undone."""
        ensure_directory(self.directory)
        run = uuid.uuid4().hex
        copies = dict(copies)
        for path, saved in (inherited or {}).items():
            with open(saved['copy'], 'rb') as handle:
                copies[path] = dict(saved, data=handle.read())
        if os.path.exists(self.path):
            os.replace(self.path, self.path + '.previous')
        os.mkdir(self.files(run), 0o700)
        saved = {}
        for number, (path, copy) in enumerate(sorted(copies.items())):
            name = os.path.join(self.files(run), str(number))
            write_atomically(name, copy['data'])
            saved[path] = {'copy': name, 'uid': copy['uid'], 'gid': copy['gid'], 'mode': copy['mode']}
        self.data = {'format': FORMAT, 'run': run, 'status': 'applying', 'selection': selection or {},
                     'started': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                     'daemon': daemon, 'phases_done': [], 'copies': saved,
                     'steps': [dict({'state': 'planned'}, **entry, number=number) for number, entry in enumerate(entries)]}
        self.save()

    def mark(self, number: int, state: str, **more) -> None:
        self.data['steps'][number].update(state=state, **more)
        self.save()

    def phase_done(self, phase: str) -> None:
        self.data['phases_done'].append(phase)
        self.save()

    def drop_others(self) -> None:
        """Remove what earlier runs kept (their copies, the journal before this one): this run is the one to undo."""
        for name in os.listdir(self.directory):
            if name.startswith('files.') and name != 'files.%s' % self.data['run']:
                shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)
        if os.path.exists(self.path + '.previous'):
            os.unlink(self.path + '.previous')

    def restore_previous(self) -> bool:
        """Put back the journal this run replaced (a run rolled back leaves the last run that changed something the one
        to undo); False where there was none."""
        previous = self.path + '.previous'
        if not os.path.exists(previous):
            return False
        os.replace(previous, self.path)
        shutil.rmtree(self.files(self.data['run']), ignore_errors=True)
        _fsync_directory(self.directory)
        return True

    def finish(self, status: str, **more) -> None:
        self.data.update(status=status, ended=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), **more)
        self.save()


def read_copy(path: str) -> dict | None:
    """What the journal keeps of a file a step replaces whole: its bytes, owner, group and mode; None when absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    with open(path, 'rb') as handle:
        data = handle.read()
    return {'data': data, 'uid': st.st_uid, 'gid': st.st_gid, 'mode': stat.S_IMODE(st.st_mode)}


def restore_copy(path: str, saved: dict) -> None:
    """Put a kept file back in place: its bytes, owner, group and mode, with one rename."""
    with open(saved['copy'], 'rb') as handle:
        data = handle.read()
    write_atomically(path, data, saved['mode'], saved['uid'], saved['gid'])


def mark_restart(directory: str, pending: bool) -> str:
    """Set or clear the mark of a restart the role's handlers still owe; returns its path."""
    path = os.path.join(directory, RESTART_MARK)
    if pending:
        ensure_directory(directory)
        write_atomically(path, b'the MTA ran before the hardening changed its configuration: restart it\n')
    elif os.path.lexists(path):
        os.unlink(path)
    return path


def restart_owed(directory: str = DIRECTORY) -> bool:
    """Whether a run marked a restart the handlers have not done (a mark in a directory others can write is no mark)."""
    return directory_problem(directory) is None and os.path.lexists(os.path.join(directory, RESTART_MARK))
