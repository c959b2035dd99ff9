# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Carrying out a hardening plan (see ``_harden``): the I/O around the planned actions.

- .mc batches: every batch is edited, rendered by m4 and checked by sendmail (``prepare_mc``)
  before any of them is installed (``install_mc``), so that a rejected .mc changes nothing;
- path actions through ``_safefs`` (lstat, O_NOFOLLOW, fstat check, fchown then fchmod; a link is
  followed only where the action says so);
- statoverride actions with ``dpkg-statoverride --remove`` then ``--update --add``, after the file
  itself was changed through ``_safefs`` (so dpkg's own chown/chmod finds nothing left to do);
- map databases older than their source, rebuilt with ``sendmail -bi`` and ``makemap``.

Commands run through ``runner(argv, data=None, cwd=None) -> (rc, stdout, stderr)``.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._cfbuild import (
    BuildError, build_cf, cf_signature, option_changes, read_text, render_cf,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._mc import McError, set_define
from ansible_collections.mailsec.sendmail.plugins.module_utils._safefs import UnsafePath, apply_attributes, writable_by_others

MAP_CLASSES = ('hash', 'btree')


def prepare_mc(batch: dict, runner, m4: str, sendmail: str, workdir: str) -> dict:
    """Edit, render and validate one batch without installing anything.

    Returns the batch with ``old_text``, ``new_text``, ``mc_changed``, ``rendered``, ``cf_text``,
    ``cf_changed`` and ``cf_changes`` (options before/after). Raises BuildError naming the file.
    """
    old_text, mc_st = read_text(batch['mc'])
    if old_text is None:
        raise BuildError('%s does not exist; cannot set %s there, nothing was changed.'
                         % (batch['mc'], ', '.join(batch['defines'])))
    text = old_text
    try:
        for name, value in batch['defines'].items():
            text = set_define(text, name, value)
    except McError as exc:
        raise BuildError('Cannot change %s: %s; nothing was changed.' % (batch['mc'], exc)) from exc
    cf_text, cf_st = read_text(batch['cf'])
    rendered = render_cf(text, batch['mc'], batch['cf'], runner, m4=m4)
    stale = cf_st is None or cf_st.st_mtime_ns < mc_st.st_mtime_ns
    cf_changed = text != old_text or stale or cf_signature(rendered) != cf_signature(cf_text)
    if cf_changed:
        build_cf(text, batch['mc'], batch['cf'], runner, m4=m4, sendmail=sendmail, install=False, workdir=workdir,
                 rendered=rendered)
    return dict(batch, old_text=old_text, new_text=text, mc_changed=text != old_text, rendered=rendered, cf_text=cf_text,
                cf_changed=cf_changed, cf_changes=option_changes(cf_text, rendered) if cf_changed else {}, mc_stat=mc_st)


def install_mc(prepared: dict, runner, m4: str, sendmail: str, write_mc, backup=None) -> dict:
    """Install a prepared batch: the .cf by rename once sendmail accepted it again, the .mc just before.

    ``write_mc(path, text)`` replaces the .mc atomically; ``backup(path)`` copies a file and returns the copy.
    Returns ``backup_files``. On failure the .mc is put back and BuildError or OSError is raised.
    """
    backups = []
    written = []

    def write_new_mc():
        if prepared['mc_changed']:
            if backup is not None:
                backups.append(backup(prepared['mc']))
            write_mc(prepared['mc'], prepared['new_text'])
            written.append(prepared['mc'])

    if not prepared['cf_changed']:
        write_new_mc()
        return {'backup_files': backups}
    try:
        built = build_cf(prepared['new_text'], prepared['mc'], prepared['cf'], runner, m4=m4, sendmail=sendmail,
                         rendered=prepared['rendered'], backup=backup, before_install=write_new_mc)
    except (BuildError, OSError):
        if written:
            write_mc(prepared['mc'], prepared['old_text'])
            os.utime(prepared['mc'], ns=(prepared['mc_stat'].st_atime_ns, prepared['mc_stat'].st_mtime_ns))
        raise
    if built['backup_file']:
        backups.append(built['backup_file'])
    # The candidate was written before the .mc: keep the .cf from looking older than its source.
    mc_mtime = os.stat(prepared['mc']).st_mtime_ns
    cf_mtime = os.stat(prepared['cf']).st_mtime_ns
    if cf_mtime < mc_mtime:
        os.utime(prepared['cf'], ns=(mc_mtime, mc_mtime))
    return {'backup_files': backups}


def cf_option_diff(cf_path: str, changes: dict) -> dict:
    """The before/after of the .cf options a rebuild changes, for the diff."""
    def lines(side):
        return ''.join('O %s=%s\n' % (name, value) for name in sorted(changes) for value in changes[name][side])
    return {'before_header': '%s (options)' % cf_path, 'after_header': '%s (options)' % cf_path,
            'before': lines('before'), 'after': lines('after')}


def apply_path(op: dict, check_mode: bool) -> dict:
    """Carry out a ``path`` action through _safefs; ``refused`` (a reason) instead of an exception when unsafe."""
    result = {'kind': 'path', 'path': op['path'], 'before': op['before'], 'after': op['after'], 'changed': False,
              'refused': None}
    if op.get('target'):
        result['target'] = op['target']
    try:
        # The whole planned result, not only what differs from the previous action: the same answer in check mode.
        done = apply_attributes(op['path'], owner=op['after']['owner'], group=op['after']['group'], mode=op['after']['mode'],
                                check_mode=check_mode, follow=op['follow'])
    except UnsafePath as exc:
        result['refused'] = str(exc)
        return result
    except OSError as exc:
        result['refused'] = '%s: %s' % (op['path'], exc.strerror or exc)
        return result
    result['changed'] = done['changed']
    if not check_mode:
        result['before'] = {key: done['before'][key] for key in ('owner', 'group', 'mode')}
        result['after'] = {key: done['after'][key] for key in ('owner', 'group', 'mode')}
    return result


def apply_pin(op: dict, runner, dpkg_statoverride: str, check_mode: bool) -> dict:
    """Carry out a ``statoverride`` action: remove the old entry, add the new one with --update.

    The file must be a regular file (lstat) so that dpkg's chown and chmod follow no link.
    Returns the action's result; ``error`` holds dpkg-statoverride's message when it failed.
    """
    result = {'kind': 'statoverride', 'path': op['path'], 'before': op['before'], 'after': op['after'], 'changed': True,
              'refused': None, 'error': None}
    try:
        st = os.lstat(op['path'])
    except OSError as exc:
        result.update(changed=False, refused='%s: %s' % (op['path'], exc.strerror or exc))
        return result
    if not stat.S_ISREG(st.st_mode):
        result.update(changed=False, refused='%s is not a regular file; refusing to let dpkg-statoverride --update change it'
                      % op['path'])
        return result
    if check_mode:
        return result
    owner, group, mode = op['after'].split()
    commands = []
    if op.get('remove'):
        commands.append([dpkg_statoverride, '--remove', op['path']])
    commands.append([dpkg_statoverride, '--update', '--add', owner, group, mode, op['path']])
    for argv in commands:
        rc, out, err = runner(argv)
        if rc != 0 and not (argv[1] == '--remove' and 'No override present' in (err or out)):
            result.update(changed=argv[1] != '--remove', error='%s exited %d: %s'
                          % (' '.join(argv), rc, (err or out).strip().splitlines()[0] if (err or out).strip() else 'no message'))
            return result
    return result


def queue_hazards(directories: list) -> list:
    """Symbolic links and multiply-linked files in the queue directories (and their qf/df/xf subdirectories).

    Nothing follows or changes them; they are reported: a link planted in a queue others can write
    to is the classic way to make a root process change another file.
    """
    found = []
    for directory in directories:
        try:
            dir_st = os.lstat(directory)
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        if not stat.S_ISDIR(dir_st.st_mode):
            continue
        for name in names:
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                found.append({'path': path, 'reason': '%s is a symbolic link (to %s) in a queue directory; not followed, '
                              'not changed: remove it' % (path, os.readlink(path))})
            elif stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and writable_by_others(dir_st):
                found.append({'path': path, 'reason': '%s has %d hard links in a queue directory others can write to; '
                              'not changed: check what it points at and remove it' % (path, st.st_nlink)})
            elif stat.S_ISDIR(st.st_mode) and name in ('qf', 'df', 'xf'):
                found.extend(queue_hazards([path]))
    return found


def _mtime(path: str):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def stale_maps(state: dict) -> list:
    """Map databases older than their source: ``{'name', 'source', 'database', 'class'}`` each.

    The alias files are rebuilt together (``sendmail -bi``, name ``aliases``); K-line maps of class
    hash or btree one by one (``makemap``). Sources are stat'ed (a link such as /etc/mail/aliases is
    followed: sendmail reads through it too); absent sources are skipped.
    """
    found = []
    for item in (state.get('layout') or {}).get('maps') or []:
        if item['name'] == 'aliases':
            for source in (state.get('layout') or {}).get('aliases') or []:
                database = source + '.db'
                if database in item['paths'] and _mtime(source) is not None and (
                        _mtime(database) is None or _mtime(source) > _mtime(database)):
                    found.append({'name': 'aliases', 'source': source, 'database': database, 'class': 'aliases'})
            continue
        declared = ((state.get('configs') or {}).get('mta') or {}).get('maps', {}).get(item['name']) or {}
        source = declared.get('file')
        if declared.get('class') not in MAP_CLASSES or not source:
            continue
        database = source + '.db'
        if _mtime(source) is not None and (_mtime(database) is None or _mtime(source) > _mtime(database)):
            found.append({'name': item['name'], 'source': source, 'database': database, 'class': declared['class']})
    return found


def rebuild_maps(stale: list, runner, sendmail: str, makemap: str | None) -> list:
    """Rebuild the stale databases; returns one result each (``error`` when the command failed)."""
    results = []
    aliases_done = False
    for item in stale:
        if item['class'] == 'aliases':
            if aliases_done:
                results.append(dict(item, command=None, error=None))
                continue
            argv, data = [sendmail, '-bi'], None
            aliases_done = True
        elif makemap is None:
            results.append(dict(item, command=None, error='makemap is not installed'))
            continue
        else:
            with open(item['source'], encoding='utf-8', errors='surrogateescape') as handle:
                data = handle.read()
            argv = [makemap, item['class'], item['source']]
        rc, out, err = runner(argv, data=data)
        message = (err or out or '').strip()
        results.append(dict(item, command=' '.join(argv) + (' < %s' % item['source'] if data is not None else ''),
                            error='exit %d: %s' % (rc, message.splitlines()[0] if message else 'no message') if rc else None))
    return results
