# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Carrying out the steps of a hardening plan (see ``_plan``): the I/O around them.

- ``path`` steps through ``_apply_safefs`` (lstat, O_NOFOLLOW, fstat check, fchown then fchmod; a link is
  followed only where the step says so); ``probe_path`` makes the same checks and changes nothing;
- ``statoverride`` steps with ``dpkg-statoverride --remove`` then ``--update --add``, after the file
  itself was changed through ``_apply_safefs`` (so dpkg's own chown/chmod finds nothing left to do);
- ``unlink`` steps through ``_apply_safefs.remove_entry`` (a link or file removed, never followed);
- ``empty_file`` steps through ``_apply_safefs.create_empty`` (O_CREAT|O_EXCL in a directory only root writes);
- ``map_rebuild`` steps with ``sendmail -bi`` and ``makemap``;
- ``cf_option`` steps go through ``_apply_cfbuild`` (one validated replacement per file), driven by ``_engine``.

Commands run through ``runner(argv, data=None, cwd=None) -> (rc, stdout, stderr)``.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import queue_problems
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_safefs import UnsafePath, apply_attributes, create_empty, remove_entry
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import queue_listing


def _attributes(found: dict) -> dict:
    return {key: found[key] for key in ('owner', 'group', 'mode')}


def apply_path(item: dict, check_mode: bool) -> dict:
    """Carry out (in check mode: try) a ``path`` step through _apply_safefs.

    Returns ``changed``, ``refused`` (a reason, when changing it would not be safe) and, for real,
    the ``before`` and ``after`` read on the file.
    """
    # Only the attributes the step changes (``set``); the others stay as the file has them, whoever set them.
    changes = item.get('set', item['after'])
    try:
        done = apply_attributes(item['target'], owner=changes.get('owner'), group=changes.get('group'), mode=changes.get('mode'),
                                check_mode=check_mode, follow=item['follow'])
    except UnsafePath as exc:
        return {'changed': False, 'refused': str(exc)}
    except (OSError, ValueError) as exc:
        return {'changed': False, 'refused': '%s: %s' % (item['target'], getattr(exc, 'strerror', None) or exc)}
    result = {'changed': done['changed'], 'refused': None}
    if not check_mode:
        result.update(before=_attributes(done['before']), after=_attributes(done['after']))
    return result


def probe_path(item: dict) -> str | None:
    """Why a ``path`` step would be refused (a planted link, a file swapped in); None when it is safe."""
    return apply_path(item, check_mode=True)['refused']


# The steps that create or remove one entry of a directory only root can write to, and what does it.
ENTRY_STEPS = {'empty_file': create_empty, 'unlink': remove_entry}


def apply_entry(item: dict, check_mode: bool = False, parent_fixed: bool = False) -> dict:
    """Carry out (in check mode: try) an ``empty_file`` or ``unlink`` step. Returns ``changed``, ``refused`` and
    ``error``. ``parent_fixed``: a step before this one leaves the directory writable by root alone (check mode)."""
    try:
        done = ENTRY_STEPS[item['kind']](item['target'], check_mode=check_mode, parent_fixed=parent_fixed)
    except UnsafePath as exc:
        return {'changed': False, 'refused': str(exc), 'error': None}
    except OSError as exc:
        return {'changed': False, 'refused': '%s: %s' % (item['target'], exc.strerror or exc), 'error': None}
    return {'changed': done['changed'], 'refused': None, 'error': None}


def probe_entry(item: dict, parent_fixed: bool = False) -> str | None:
    """Why an ``empty_file`` or ``unlink`` step would be refused; None when it is safe."""
    return apply_entry(item, check_mode=True, parent_fixed=parent_fixed)['refused']


def probe_pin(item: dict) -> str | None:
    """Why a ``statoverride`` step would be refused: dpkg's chown and chmod must meet a regular file."""
    try:
        st = os.lstat(item['target'])
    except OSError as exc:
        return '%s: %s' % (item['target'], exc.strerror or exc)
    if not stat.S_ISREG(st.st_mode):
        return '%s is not a regular file; refusing to let dpkg-statoverride --update change it' % item['target']
    return None


def apply_pin(item: dict, runner, dpkg_statoverride: str) -> dict:
    """Carry out a ``statoverride`` step: remove the old entry, add the new one with --update.

    Returns ``changed``, ``refused`` and ``error`` (dpkg-statoverride's message when it failed).
    """
    refused = probe_pin(item)
    if refused:
        return {'changed': False, 'refused': refused, 'error': None}
    owner, group, mode = item['after'].split()
    commands = []
    if item.get('remove'):
        commands.append([dpkg_statoverride, '--remove', item['target']])
    commands.append([dpkg_statoverride, '--update', '--add', owner, group, mode, item['target']])
    for argv in commands:
        rc, out, err = runner(argv)
        if rc != 0 and not (argv[1] == '--remove' and 'No override present' in (err or out)):
            message = (err or out).strip().splitlines()[0] if (err or out).strip() else 'no message'
            return {'changed': argv[1] != '--remove', 'refused': None, 'error': '%s exited %d: %s' % (' '.join(argv), rc, message)}
    return {'changed': True, 'refused': None, 'error': None}


def queue_hazards(directories: list, own_dirs: dict | None = None) -> list:
    """The entries of the queue directories (and their qf/df/xf subdirectories) that are not queue files, as
    SM-QUEUE-03 judges them (see _judge.queue_problems): symbolic links, files with hard links outside the
    queues, pipes, devices, foreign directories. ``own_dirs``: see _judge.queue_own_dirs.

    Nothing follows or changes them; they are reported: a link planted in a queue others can write to is
    the classic way to make a root process change another file.
    """
    listings = {}
    for directory in directories:
        listing = queue_listing(directory)
        if not listing['error']:
            listings[directory] = listing
    return [{'path': item['path'], 'reason': '%s in a queue directory; not followed, not changed: remove it' % item['reason']}
            for item in queue_problems(listings, own_dirs)]


def rebuild_map(item: dict, runner, sendmail: str, makemap: str | None, aliases_done: bool) -> dict:
    """Rebuild one stale database (a ``map_rebuild`` step); the alias files are rebuilt together by one
    ``sendmail -bi``. Returns ``changed``, ``command`` and ``error``."""
    if item['map_class'] == 'aliases':
        if aliases_done:
            return {'changed': True, 'command': None, 'error': None}
        argv, data = [sendmail, '-bi'], None
    elif makemap is None:
        return {'changed': False, 'command': None, 'error': 'makemap is not installed'}
    else:
        with open(item['source'], encoding='utf-8', errors='surrogateescape') as handle:
            data = handle.read()
        argv = [makemap, item['map_class'], item['source']]
    rc, out, err = runner(argv, data=data)
    message = (err or out or '').strip()
    command = ' '.join(argv) + (' < %s' % item['source'] if data is not None else '')
    return {'changed': rc == 0, 'command': command,
            'error': 'exit %d: %s' % (rc, message.splitlines()[0] if message else 'no message') if rc else None}
