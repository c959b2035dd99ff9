# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The fix kinds of the hardening, each registered once with what it takes to carry out and undo a step.

``KINDS[kind]`` gives, for one step of that kind (see ``_plan``):

- ``probe(step, planned)``: why a real run would refuse it (None: it would not); ``planned`` maps a path
  to the owner, group and mode steps before it leave it with;
- ``record(step)``: what undoing it needs, read before the run's first write: ``(record, copies)``, a
  JSON record and the files to keep whole (path -> ``_apply_journal.read_copy``);
- ``apply(step, context)``: carry it out; returns ``changed``, ``refused``, ``error`` (and what else the
  report shows);
- ``undo(step, record, context)``: put back what it changed; returns an error text or None;
- ``still(step, record)``: whether the host still has what the step left (an undo over a later change
  of the administrator's is refused).

The configuration of one file (its .cf and .mc, all the option, feature and listen steps of it) is one
``config`` entry: it is installed as a whole, after sendmail read it (see ``_apply_cfbuild.commit``).
"""

from __future__ import annotations

import os
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_steps import (
    apply_entry, apply_path, apply_pin, probe_entry, probe_path, probe_pin, rebuild_map,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_journal import read_copy, restore_copy
from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_selfsigned as selfsigned
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_binary import link_chain
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import attributes_text
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import pin_text, read_statoverrides
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_safefs import (
    UnsafePath, apply_attributes, others_can_write, remove_entry, writable_by_others,
)


class Context:
    """What the steps need of the host: commands, programs, the writer of whole files, and what was done so far."""

    def __init__(self, run, sendmail: str, dpkg: str | None, makemap: str | None, write_text, apply_config=None):
        self.run = run
        self.sendmail = sendmail
        self.dpkg = dpkg
        self.makemap = makemap
        self.write_text = write_text
        self.apply_config = apply_config
        self.aliases_done = False


def root_only(attributes: dict | None) -> bool:
    """Whether planned owner, group and mode leave a directory writable by root alone."""
    if not attributes:
        return False
    return not others_can_write(attributes['owner'] == 'root', attributes['group'] == 'root', int(attributes['mode'], 8))


def alias_link_problem(item: dict, planned: dict) -> str | None:
    """Why an alias file must not be written where its links lead: a link, or the file, in a directory others
    than root can write to (``planned``: owner, group and mode path steps before leave a directory with), or
    the links leading elsewhere than when the host was read."""
    chain = link_chain(item['source'])
    if chain[-1] != item['target']:
        return '%s now leads to %s, not %s; not edited' % (item['source'], chain[-1], item['target'])
    for path in chain:
        directory = os.path.dirname(path)
        try:
            unsafe = writable_by_others(os.lstat(directory))
        except OSError as exc:
            return '%s: %s; not edited' % (directory, exc.strerror or exc)
        if unsafe and not root_only(planned.get(directory)):
            return ('%s is reached through %s, which others than root can write to (a link there could lead anywhere); '
                    'not edited' % (item['target'], directory))
    if not os.path.isfile(item['target']) or os.path.islink(item['target']):
        return '%s is not a regular file; not edited' % item['target']
    return None


def _attributes_now(path: str, follow: bool) -> dict | None:
    try:
        found = apply_attributes(path, check_mode=True, follow=follow)
    except (OSError, ValueError):
        return None
    return {key: found['after'][key] for key in ('owner', 'group', 'mode')}


# --- path: owner, group and mode ---------------------------------------------------------------------

def _path_apply(item: dict, context: Context) -> dict:
    return dict(apply_path(item, check_mode=False), error=None)


def _path_of(item: dict) -> tuple:
    """(path, follow) a path step is undone on: the file a followed link led to when the plan was made, never where
    the link leads now."""
    return (item['resolved'], False) if item.get('follow') and item.get('resolved') else (item['target'], item['follow'])


def _path_undo(item: dict, record: dict, context: Context) -> str | None:
    """Only the attributes the step set go back: an owner or group it left alone stays as it is now."""
    path, follow = _path_of(item)
    before = {key: record['before'][key] for key in (item.get('set') or item['after'])}
    try:
        apply_attributes(path, owner=before.get('owner'), group=before.get('group'), mode=before.get('mode'), follow=follow)
    except (OSError, ValueError, UnsafePath) as exc:
        return '%s: %s' % (path, getattr(exc, 'strerror', None) or exc)
    return None


def _path_still(item: dict, record: dict) -> bool:
    now = _attributes_now(*_path_of(item))
    return now is not None and all(now[key] == value for key, value in (item.get('set') or item['after']).items())


# --- statoverride: dpkg's pin of a file's owner, group and mode ---------------------------------------

def _pin_now(path: str) -> str | None:
    return next((pin_text(entry) for entry in read_statoverrides()
                 if entry['path'] == path), None)


def _pin_undo(item: dict, record: dict, context: Context) -> str | None:
    """The pin the run added is removed, the one it replaced put back (without --update: the path steps' own undo
    restores the file); nothing where the pin is as it was (a step that failed before it changed anything)."""
    now = _pin_now(item['target'])
    if now == record['before']:
        return None
    if not context.dpkg:
        return '%s: dpkg-statoverride is not available to put its pin back' % item['target']
    commands = [[context.dpkg, '--remove', item['target']]] if now is not None else []
    if record['before']:
        commands.append([context.dpkg, '--add'] + record['before'].split() + [item['target']])
    for argv in commands:
        rc, out, err = context.run(argv)
        if rc != 0:
            return '%s exited %d: %s' % (' '.join(argv), rc, (err or out).strip() or 'no message')
    return None


def _pin_still(item: dict, record: dict) -> bool:
    return _pin_now(item['target']) == item['after']


# --- empty_file and unlink: one entry of a directory only root writes to -------------------------------

def _entry_probe(item: dict, planned: dict) -> str | None:
    return probe_entry(item, root_only(planned.get(os.path.dirname(item['target']))))


def _empty_undo(item: dict, record: dict, context: Context) -> str | None:
    try:
        st = os.lstat(item['target'])
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size:
        return '%s is no longer the empty file the hardening made; left in place' % item['target']
    try:
        remove_entry(item['target'])
    except (OSError, UnsafePath) as exc:
        return '%s: %s' % (item['target'], getattr(exc, 'strerror', None) or exc)
    return None


def _empty_still(item: dict, record: dict) -> bool:
    try:
        st = os.lstat(item['target'])
    except FileNotFoundError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == 0


def _unlink_record(item: dict) -> tuple:
    """A link is kept as where it points and whose it is; a regular file whole."""
    try:
        st = os.lstat(item['target'])
    except FileNotFoundError:
        return {'absent': True}, {}
    if stat.S_ISLNK(st.st_mode):
        return {'link': os.readlink(item['target']), 'uid': st.st_uid, 'gid': st.st_gid}, {}
    return {'file': True}, {item['target']: read_copy(item['target'])}


def _unlink_undo(item: dict, record: dict, context: Context, copies: dict | None = None) -> str | None:
    if record.get('absent') or os.path.lexists(item['target']):
        return None
    try:
        if 'link' in record:
            os.symlink(record['link'], item['target'])
            os.lchown(item['target'], record['uid'], record['gid'])
        elif copies and item['target'] in copies:
            restore_copy(item['target'], copies[item['target']])
    except OSError as exc:
        return '%s: %s' % (item['target'], exc.strerror or exc)
    return None


def _unlink_still(item: dict, record: dict) -> bool:
    return not os.path.lexists(item['target'])


# --- alias_edit: an alias file rewritten ----------------------------------------------------------------

def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding='utf-8', errors='surrogateescape') as handle:
            return handle.read()
    except OSError:
        return None


def _alias_undo(item: dict, record: dict, context: Context) -> str | None:
    """The file as it was, where it is as the step left it (a run killed before the step left it as it was)."""
    current = _read_text(item['target'])
    if current == item['before']:
        return None
    if current != item['after']:
        return '%s changed since the hardening edited it; left as it is' % item['target']
    context.write_text(item['target'], item['before'])
    context.aliases_done = False
    return None


def _alias_still(item: dict, record: dict) -> bool:
    return _read_text(item['target']) == item['after']


def _alias_apply(item: dict, context: Context) -> dict:
    refused = alias_link_problem(item, {})
    if refused:
        return {'changed': False, 'refused': refused, 'error': None}
    current = _read_text(item['target'])
    if current is None:
        return {'changed': False, 'refused': None, 'error': '%s: cannot be read' % item['target']}
    if current != item['before']:
        return {'changed': False, 'refused': '%s changed since it was read; not edited' % item['target'], 'error': None}
    context.write_text(item['target'], item['after'])
    context.aliases_done = False  # the edited file wants its own rebuild
    return {'changed': True, 'refused': None, 'error': None}


def _alias_probe(item: dict, planned: dict) -> str | None:
    return alias_link_problem(item, planned)


# --- map_rebuild: a database made again from its source -------------------------------------------------

def _map_apply(item: dict, context: Context) -> dict:
    outcome = rebuild_map(item, context.run, context.sendmail, context.makemap, context.aliases_done)
    context.aliases_done = context.aliases_done or item['map_class'] == 'aliases'
    return outcome


def _map_undo(item: dict, record: dict, context: Context) -> str | None:
    """A database follows its source: rebuilt again where its source was put back (see ``undo_all``)."""
    return None


# --- config: one .cf (with its .mc) installed as a whole --------------------------------------------------

def _config_record(item: dict) -> tuple:
    paths = [path for path in (item['target'], item.get('mc')) if path]
    copies = {path: read_copy(path) for path in paths}
    return {'absent': [path for path, copy in copies.items() if copy is None]}, {
        path: copy for path, copy in copies.items() if copy is not None}


def _config_apply(item: dict, context: Context) -> dict:
    return context.apply_config(item)


def _same_bytes(path: str, saved: dict) -> bool:
    try:
        with open(path, 'rb') as current, open(saved['copy'], 'rb') as kept:
            return current.read() == kept.read()
    except OSError:
        return False


def _config_undo(item: dict, record: dict, context: Context, copies: dict | None = None) -> str | None:
    """The kept .mc and .cf put back, the .cf last (a rebuild of the old .mc makes the old .cf); a file that is as
    kept is left alone, its time too (a daemon would otherwise look older than its .cf)."""
    try:
        for path in (item.get('mc'), item['target']):
            if not path:
                continue
            if path in (copies or {}):
                if not _same_bytes(path, copies[path]):
                    restore_copy(path, copies[path])
            elif path in record['absent'] and os.path.lexists(path):
                os.unlink(path)
    except OSError as exc:
        return '%s: %s' % (item['target'], exc.strerror or exc)
    return None


def _config_still(item: dict, record: dict) -> bool:
    return _read_text(item['target']) == item['after'] and (not item.get('mc') or _read_text(item['mc']) == item.get('mc_after'))


# --- what --diff shows of each kind: (header, a line before, a line after) ---------------------------------

def _path_diff(item: dict) -> tuple:
    shown = item['target'] if not item.get('resolved') else '%s -> %s' % (item['target'], item['resolved'])
    return ('%s (owner:group mode)' % item['id'], '%s: %s\n' % (shown, attributes_text(item['before'])),
            '%s: %s\n' % (shown, attributes_text(item['after'])))


def _pin_diff(item: dict) -> tuple:
    return ('%s (dpkg-statoverride)' % item['id'], '%s %s\n' % (item['before'], item['target']) if item['before'] else '',
            '%s %s\n' % (item['after'], item['target']))


def _no_diff(item: dict) -> None:
    """Shown elsewhere (a .cf and its .mc, by the engine) or not a change of the host's (a database made again)."""
    return None


def _nothing(item: dict) -> tuple:
    return {}, {}


def _record_before(item: dict) -> tuple:
    return {'before': item['before']}, {}


KINDS = {
    'path': {'probe': lambda item, planned: probe_path(item), 'record': _record_before, 'apply': _path_apply,
             'undo': _path_undo, 'still': _path_still, 'diff': _path_diff},
    'statoverride': {'probe': lambda item, planned: probe_pin(item), 'record': _record_before,
                     'apply': lambda item, context: apply_pin(item, context.run, context.dpkg), 'undo': _pin_undo,
                     'still': _pin_still, 'diff': _pin_diff},
    'empty_file': {'probe': _entry_probe, 'record': _nothing, 'apply': lambda item, context: apply_entry(item),
                   'undo': _empty_undo, 'still': _empty_still,
                   'diff': lambda item: ('%s (created empty)' % item['id'], '', '%s: %s\n' % (item['target'], attributes_text(item['after'])))},
    'unlink': {'probe': _entry_probe, 'record': _unlink_record, 'apply': lambda item, context: apply_entry(item),
               'undo': _unlink_undo, 'still': _unlink_still, 'copies': True,
               'diff': lambda item: ('%s (removed)' % item['id'], '%s\n' % item['target'], '')},
    'alias_edit': {'probe': _alias_probe, 'record': _nothing, 'apply': _alias_apply, 'undo': _alias_undo,
                   'still': _alias_still, 'diff': lambda item: ('%s (%s)' % (item['target'], item['id']), item['before'], item['after'])},
    'map_rebuild': {'probe': lambda item, planned: None, 'record': _nothing, 'apply': _map_apply, 'undo': _map_undo,
                    'still': lambda item, record: True, 'diff': _no_diff},
    'self_signed': {'probe': lambda item, planned: selfsigned.probe(item, root_only(planned.get(os.path.dirname(item['target'])))),
                    'record': _nothing, 'apply': lambda item, context: selfsigned.make_pair(item, context.run),
                    'undo': lambda item, record, context: selfsigned.undo(item), 'still': lambda item, record: selfsigned.still(item),
                    'diff': lambda item: ('%s (self-signed certificate and key made)' % item['id'], '', '%s: root:root 0644\n%s: %s:%s 0600\n' % (
                        item['after']['cert'], item['after']['key'], item['after']['owner'], item['after']['group']))},
    'config': {'probe': lambda item, planned: None, 'record': _config_record, 'apply': _config_apply,
               'undo': _config_undo, 'still': _config_still, 'copies': True, 'diff': _no_diff},
}


def diff_entries(steps: list) -> list:
    """The diff of the steps, one before/after pair per header (a control and kind, or an alias file)."""
    grouped = {}
    for item in steps:
        shown = KINDS[item['kind']]['diff'](item) if item['kind'] in KINDS else None
        if shown is None:
            continue
        header, before, after = shown
        entry = grouped.setdefault(header, {'before_header': header, 'after_header': header, 'before': '', 'after': ''})
        entry['before'] += before
        entry['after'] += after
    return list(grouped.values())


def undo_one(entry: dict, context: Context, copies: dict) -> str | None:
    kind = KINDS[entry['step']['kind']]
    if kind.get('copies'):
        return kind['undo'](entry['step'], entry['record'], context, copies)
    return kind['undo'](entry['step'], entry['record'], context)


def undo_all(entries: list, context: Context, copies: dict) -> tuple:
    """Undo ``entries`` (journal entries: ``step`` and ``record``) in reverse order; the alias databases are made
    again where an alias file was put back. Returns (entries undone, errors)."""
    undone, errors = [], []
    for entry in reversed(entries):
        try:
            error = undo_one(entry, context, copies)
        except Exception as exc:  # noqa: BLE001 - one step that cannot be undone must not stop the others
            error = '%s: %s' % (entry['step']['target'], getattr(exc, 'strerror', None) or exc)
        if error:
            errors.append(error)
        else:
            undone.append(entry)
    if any(entry['step']['kind'] == 'alias_edit' for entry in undone) and context.sendmail:
        rc, out, err = context.run([context.sendmail, '-bi'])
        if rc:
            errors.append('%s -bi exited %d: %s' % (context.sendmail, rc, (err or out).strip() or 'no message'))
    return undone, errors
