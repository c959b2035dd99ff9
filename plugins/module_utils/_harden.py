# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Planning the hardening of a sendmail host: pure functions from a collected state and findings to actions.

Nothing here reads or writes the host. The module ``sendmail_harden`` evaluates the controls
(as ``sendmail_drift`` does), asks this file what to do, and does it in two phases:

1. ``plan_mc``: the ``mc_define`` fix actions of the failing controls, batched per .mc file
   (one edit and one .cf rebuild per file: sendmail.mc -> sendmail.cf, submit.mc -> submit.cf);
2. after the state is collected and evaluated again (a new RunAsUser changes who may own the
   MTA queue), ``plan_files``: owner/group/mode changes (``path_attributes``, ``clear_mode_bits``)
   and dpkg statoverride entries (``statoverride``), in catalogue order, each computed from the
   attributes the previous ones leave.

``manual`` actions and fixes that cannot be resolved on the host are returned as notes, never
applied. Every action is a plain dict, so that unit tests compare plans and the module reports them.
"""

from __future__ import annotations

import copy
import os

from ansible_collections.mailsec.sendmail.plugins.module_utils._cf import parse_cf, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, fix_actions
from ansible_collections.mailsec.sendmail.plugins.module_utils._evaluate import (
    judge_path, owner_names, run_as_parts, setuid_root_files,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._state import account_tokens, layout

FAILING = ('fail', 'error')
MC_ROLES = {'sendmail.mc': 'mta', 'submit.mc': 'msp'}
RUN_AS_DEFINE = 'confRUN_AS_USER'


class PlanError(ValueError):
    """The fix data cannot be turned into one consistent plan; the message is one sentence."""


def _octal(text) -> int:
    return int(str(text or '0'), 8)


def failing_ids(findings: list) -> list:
    """The ids of the findings sendmail_drift counts as drift (fail or error), in catalogue order."""
    return [item['id'] for item in findings if item['status'] in FAILING]


def attributes_text(attributes: dict | None) -> str:
    """'owner:group mode' of a planned or read entry; 'absent' for none."""
    if not attributes:
        return 'absent'
    return '%s:%s %s' % (attributes['owner'], attributes['group'], attributes['mode'])


# --- phase 1: .mc defines ---------------------------------------------------------------------


def mc_paths(state: dict, mc_name: str) -> tuple:
    """(role, .mc path, .cf path) of a fix action's ``mc`` (sendmail.mc or submit.mc), next to the .cf sendmail reads."""
    role = MC_ROLES.get(mc_name)
    if role is not None:
        cf_path = state['configs'][role]['path']
        return role, os.path.join(os.path.dirname(cf_path), mc_name), cf_path
    directory = os.path.dirname(state['configs']['mta']['path'])
    stem = mc_name[:-3] if mc_name.endswith('.mc') else mc_name
    return None, os.path.join(directory, mc_name), os.path.join(directory, stem + '.cf')


def plan_mc(control_ids: list, expected_by_id: dict, state: dict) -> tuple:
    """The .mc batches of the ``mc_define`` actions of ``control_ids``, and notes on those left undone.

    Returns (batches, notes). A batch is ``mc``, ``cf``, ``role``, ``defines`` (name -> value, in the
    order first asked), ``controls`` (ids, in catalogue order) and ``by_define`` (name -> ids). A note
    is ``{'id', 'reason'}``: an action whose value cannot be resolved (e.g. no expected RunAsUser user).
    Two controls asking one define for different values raise PlanError.
    """
    batches = {}
    notes = []
    for control_id in control_ids:
        for action in fix_actions(BY_ID[control_id], expected_by_id[control_id]):
            if action['kind'] != 'mc_define':
                continue
            if action.get('value') in (None, ''):
                notes.append({'id': control_id, 'reason': 'no value to set for %s: give it in expected.%s'
                              % (action['define'], control_id)})
                continue
            role, mc_path, cf_path = mc_paths(state, action['mc'])
            batch = batches.setdefault(mc_path, {'mc': mc_path, 'cf': cf_path, 'role': role, 'defines': {}, 'controls': [],
                                                 'by_define': {}})
            value = str(action['value'])
            known = batch['defines'].get(action['define'])
            if known is not None and known != value:
                raise PlanError('%s asks %s=%s in %s but %s asks %s; make the expected values agree'
                                % (control_id, action['define'], value, mc_path, ', '.join(batch['by_define'][action['define']]),
                                   known))
            batch['defines'][action['define']] = value
            batch['by_define'].setdefault(action['define'], []).append(control_id)
            if control_id not in batch['controls']:
                batch['controls'].append(control_id)
    return [batches[path] for path in sorted(batches)], notes


def account_errors(batches: list, users: dict, groups: set) -> list:
    """Why a RunAsUser the batches would set cannot work on this host: its user or group does not exist.

    ``users`` maps existing user names to their primary group names, ``groups`` holds existing group names.
    """
    errors = []
    for batch in batches:
        value = batch['defines'].get(RUN_AS_DEFINE)
        if value is None:
            continue
        user, group = run_as_parts(value)
        owners = ', '.join(batch['by_define'][RUN_AS_DEFINE])
        if user not in users:
            errors.append('RunAsUser %s for %s (%s): user %s does not exist on this host; create it or give another user '
                          'in expected.SM-RUNAS-01' % (value, batch['mc'], owners, user))
        if group is not None and group not in groups:
            errors.append('RunAsUser %s for %s (%s): group %s does not exist on this host; create it or give another group '
                          'in expected.SM-RUNAS-01' % (value, batch['mc'], owners, group))
    return errors


def path_name_errors(control_ids: list, expected_by_id: dict, users: dict, groups: set) -> list:
    """Owners and groups named in the path specifications that the fixes could set but the host lacks."""
    errors = []
    for control_id in control_ids:
        expected = expected_by_id[control_id]
        if BY_ID[control_id]['evaluator'] not in ('path_set', 'map_files'):
            continue
        for owner in (expected.get('owner') or [])[:1]:
            if not owner.startswith('@') and owner not in users:
                errors.append('expected.%s.owner names %s, which does not exist on this host' % (control_id, owner))
        for group in (expected.get('group') or [])[:1]:
            if group not in groups:
                errors.append('expected.%s.group names %s, which does not exist on this host' % (control_id, group))
    return errors


def predict_state(state: dict, cf_texts: dict, lookup_account, lstat) -> dict:
    """The state after the .cf files of ``cf_texts`` (role -> new text) are installed, for check mode.

    The settings, layout and accounts follow the new configuration; ``lookup_account(token)`` and
    ``lstat(path, follow)`` read what the new layout names that the old one did not.
    """
    new = copy.deepcopy(state)
    for role, text in cf_texts.items():
        parsed = parse_cf(text)
        new['configs'][role] = {'path': state['configs'][role]['path'], 'error': None, 'settings': settings(parsed),
                                'maps': parsed['maps']}
    new['layout'] = layout(new['configs'], (state.get('binary') or {}).get('resolved'), state['layout'].get('mc') or [])
    for token in account_tokens(new['configs']):
        if token not in new['accounts']:
            new['accounts'][token] = lookup_account(token)
    for group, paths in new['layout'].items():
        flat = [p for item in paths for p in item['paths']] if group == 'maps' else paths
        for path in flat:
            if path not in new['paths']:
                new['paths'][path] = lstat(path, group in ('aliases', 'maps'))
    for directory in new['layout']['queue_mta'] + new['layout']['queue_msp']:
        new['queue_files'].setdefault(directory, {'files': [], 'error': None})
    return new


# --- phase 2: files, modes and statoverrides ----------------------------------------------------


def _target_paths(state: dict, targets: str) -> list:
    """The paths of a fix action's ``targets`` ('help+status': several layout groups), once each."""
    paths = []
    for group in targets.split('+'):
        for path in state.get('layout', {}).get(group) or []:
            if path not in paths:
                paths.append(path)
    return paths


class _View:
    """The attributes of paths and statoverride entries as the planned actions leave them."""

    def __init__(self, state: dict):
        self.state = state
        self.paths = {}
        self.pins = {entry['path']: '%s %s %s' % (entry['owner'], entry['group'], entry['mode'])
                     for entry in state.get('statoverrides') or []}
        self.pins_before = dict(self.pins)

    def entry(self, path: str) -> dict:
        """The state's entry of ``path``, with owner, group and mode as planned so far."""
        if path in self.paths:
            return self.paths[path]
        entry = self.state.get('paths', {}).get(path)
        if entry is None:
            entry = next((item for item in self._other_entries() if item['path'] == path),
                         {'path': path, 'exists': False, 'error': 'not read'})
        self.paths[path] = copy.deepcopy(entry)
        return self.paths[path]

    def _other_entries(self):
        for listing in (self.state.get('queue_files') or {}).values():
            yield from listing.get('files') or []
        for item in self.state.get('setid_files') or []:
            yield dict(item, exists=True, error=None, type='file', link=None, target=None)


def _judged(entry: dict, follow: bool) -> dict | None:
    """The entry whose attributes a fix changes: the entry itself, or a followed link's target."""
    if entry.get('type') == 'link':
        return entry.get('target') if follow else None
    return entry


def _want(entry: dict, spec: dict, owners: list, prefer_owner: str | None) -> dict:
    """Owner, group and mode that satisfy ``spec``, changing as little as possible of ``entry``."""
    owner = entry['owner']
    if prefer_owner and prefer_owner in owners:
        owner = prefer_owner
    elif owner not in owners and owners:
        owner = owners[0]
    group = entry['group']
    if spec.get('group') is not None and group not in spec['group'] and spec['group']:
        group = spec['group'][0]
    keep = _octal(spec['mode']) | _octal(spec.get('ignore'))  # bits another control judges are left as they are
    mode = (_octal(entry['mode']) & keep) | _octal(spec.get('require'))
    return {'owner': owner, 'group': group, 'mode': '%04o' % mode}


def _set_op(view: _View, control_id: str, path: str, follow: bool, want: dict, why: str) -> dict | None:
    """A path action from the current planned attributes to ``want``; None when nothing changes."""
    entry = view.entry(path)
    judged = _judged(entry, follow)
    before = {key: judged[key] for key in ('owner', 'group', 'mode')}
    if before == want:
        return None
    judged.update(want)
    return {'kind': 'path', 'id': control_id, 'path': path, 'follow': follow,
            'target': judged['path'] if judged is not entry else None,
            'owner': want['owner'] if want['owner'] != before['owner'] else None,
            'group': want['group'] if want['group'] != before['group'] else None,
            'mode': want['mode'] if want['mode'] != before['mode'] else None,
            'before': before, 'after': dict(want), 'why': why}


def _refuse(control_id: str, path: str, reason: str) -> dict:
    return {'kind': 'refuse', 'id': control_id, 'path': path, 'reason': reason}


def _runas(state: dict):
    """(user, group) of the MTA's RunAsUser as account names; (None, None) when unset."""
    mta = (state.get('configs', {}).get('mta') or {}).get('settings') or {}
    user, group = run_as_parts(mta.get('RunAsUser'))
    found = (state.get('accounts') or {}).get(user) if user else None
    if found:
        return found['name'], group
    return user, group


def _path_ops(view: _View, control_id: str, action: dict) -> list:
    """Actions of a ``path_attributes`` fix: each path of the targets that fails the specification, as the
    control judges it (a link is judged by its target only where the control follows it)."""
    spec = action['expected']
    follow = bool(action.get('follow_symlinks'))
    judge_follow = BY_ID[control_id]['evaluator'] == 'map_files' or BY_ID[control_id]['params'].get('follow_links', False)
    runas_user = _runas(view.state)[0]
    ops = []
    if action['targets'] == 'maps':
        items = [(path, dict(spec, group=None, missing='pass',
                             mode=spec['private_mode'] if item['name'] in spec['private'] else spec['mode']))
                 for item in view.state.get('layout', {}).get('maps') or [] for path in item['paths']]
    else:
        items = [(path, spec) for path in _target_paths(view.state, action['targets'])]
    for path, item_spec in items:
        entry = view.entry(path)
        owners = owner_names(view.state, item_spec['owner'])
        status, problems = judge_path(entry, item_spec, owners, follow_links=judge_follow)
        if status == 'pass':
            continue
        if status == 'error':
            ops.append(_refuse(control_id, path, '; '.join(problems) or 'cannot be read'))
            continue
        if not entry.get('exists'):
            ops.append(_refuse(control_id, path, '%s is absent: create it by hand (or reinstall the package)' % path))
            continue
        if entry.get('type') == 'link' and not follow:
            ops.append(_refuse(control_id, path, '%s is a symbolic link (to %s); not followed: replace it by the real file'
                               % (path, entry.get('link'))))
            continue
        judged = _judged(entry, follow)
        if judged is None or not judged.get('exists'):
            ops.append(_refuse(control_id, path, '%s: its link target is absent' % path))
            continue
        prefer = runas_user if {'@RunAsUser', '@MTAUser'} & set(item_spec['owner']) else None
        op = _set_op(view, control_id, path, follow, _want(judged, item_spec, owners, prefer), '; '.join(problems))
        if op:
            ops.append(op)
    return ops


def _pin(view: _View, control_id: str, path: str, wanted: str, why: str) -> dict | None:
    """A statoverride action pinning ``path`` to 'owner group mode'; None when it already is."""
    current = view.pins.get(path)
    owner, group, mode = wanted.split()
    wanted = '%s %s %04o' % (owner, group, _octal(mode))
    if current is not None and current.split()[:2] == wanted.split()[:2] and _octal(current.split()[2]) == _octal(mode):
        return None
    view.pins[path] = wanted
    return {'kind': 'statoverride', 'id': control_id, 'path': path, 'before': current, 'after': wanted,
            'remove': path in view.pins_before or current is not None, 'why': why}


def _clear_bits_ops(view: _View, control_id: str, action: dict, expected: dict, options: dict) -> list:
    bits = _octal(action['bits'])
    ops = []
    if action['targets'] == 'setuid_root_files':
        allowed = expected.get('allowed') or []
        entries = [item for item in setuid_root_files(view.state) if item['path'] not in allowed]
    elif action['targets'] == 'queue_files':
        entries = [item for listing in sorted((view.state.get('queue_files') or {}).items())
                   for item in listing[1].get('files') or []]
    else:
        raise PlanError('clear_mode_bits of %s names targets %s, which the hardening does not know'
                        % (control_id, action['targets']))
    for item in entries:
        entry = view.entry(item['path'])
        if not entry.get('exists') or entry.get('type') != 'file' or not _octal(entry['mode']) & bits:
            continue
        want = {'owner': entry['owner'], 'group': entry['group'], 'mode': '%04o' % (_octal(entry['mode']) & ~bits)}
        op = _set_op(view, control_id, item['path'], False, want, 'mode %s has %04o' % (entry['mode'], _octal(entry['mode']) & bits))
        if op is None:
            continue
        ops.append(op)
        if not action.get('statoverride') or not options.get('dpkg'):
            continue
        pinned = view.pins.get(item['path'])
        if pinned is not None:
            owner, group, mode = pinned.split()
            pin = _pin(view, control_id, item['path'], '%s %s %04o' % (owner, group, _octal(mode) & ~bits),
                       'the statoverride %s would bring %04o back at the next upgrade' % (pinned, bits))
        elif options.get('statoverride'):
            pin = _pin(view, control_id, item['path'], '%s %s %s' % (want['owner'], want['group'], want['mode']),
                       'a reinstall of the package would bring %04o back' % bits)
        else:
            pin = None
        if pin:
            ops.append(pin)
    return ops


def _statoverride_ops(view: _View, control_id: str, action: dict, options: dict) -> list:
    """Pin each ``entries`` path (present on the host) and drop the set-user-id bit of other sendmail pins."""
    if not options.get('dpkg'):
        return [_refuse(control_id, 'dpkg-statoverride', 'dpkg-statoverride is not available on this host')]
    ops = []
    entries = action.get('entries') or {}
    for path, wanted in sorted(entries.items()):
        entry = view.entry(path)
        if not entry.get('exists'):
            continue
        pin = _pin(view, control_id, path, wanted, 'expected %s' % wanted)
        if pin:
            ops.append(pin)
        owner, group, mode = wanted.split()
        if entry.get('type') == 'file':
            op = _set_op(view, control_id, path, False, {'owner': owner, 'group': group, 'mode': '%04o' % _octal(mode)},
                         'pinned to %s' % wanted)
            if op:
                ops.append(op)
        elif entry.get('type') == 'link':
            ops.append(_refuse(control_id, path, '%s is a symbolic link; pinned, but its attributes are left to dpkg' % path))
    sendmail_files = set(view.state.get('setid_candidates') or [])
    for path, pinned in sorted(view.pins.items()):
        owner, group, mode = pinned.split()
        if path in sendmail_files and path not in entries and _octal(mode) & 0o4000:
            pin = _pin(view, control_id, path, '%s %s %04o' % (owner, group, _octal(mode) & ~0o4000),
                       'pinned set-user-id')
            if pin:
                ops.append(pin)
    return ops


def _runas_handover(view: _View) -> list:
    """SM-RUNAS-01's own fix: the MTA queue and the MTA's statistics file go to the RunAsUser the MTA now runs as."""
    user, group = _runas(view.state)
    if not user:
        return []
    mta = (view.state['configs'].get('mta') or {}).get('settings') or {}
    paths = list(view.state.get('layout', {}).get('queue_mta') or []) + ([mta['StatusFile']] if mta.get('StatusFile') else [])
    ops = []
    for path in paths:
        entry = view.entry(path)
        if not entry.get('exists') or entry.get('type') not in ('dir', 'file'):
            continue
        want = {'owner': user, 'group': group or entry['group'], 'mode': entry['mode']}
        op = _set_op(view, 'SM-RUNAS-01', path, False, want, 'the MTA now runs as %s and writes %s' % (user, path))
        if op:
            ops.append(op)
    return ops


def plan_files(control_ids: list, expected_by_id: dict, state: dict, options: dict | None = None,
               runas_changed: bool = False) -> tuple:
    """The file, mode and statoverride actions of the failing ``control_ids`` on ``state``, in catalogue order.

    ``options``: ``statoverride`` (pin the modes of files whose set-user-id bit is dropped), ``dpkg``
    (dpkg-statoverride is there). ``runas_changed``: RunAsUser was just set, so the MTA queue and the MTA's
    statistics file are handed to it first (SM-RUNAS-01's fix). Returns (actions, notes):
    actions are ``path`` (``path``, ``follow``, ``owner``/``group``/``mode`` to set or None, ``before``,
    ``after``), ``statoverride`` (``path``, ``before``, ``after`` as 'owner group mode', ``remove``) and
    ``refuse`` (``path``, ``reason``); notes are ``{'id', 'reason'}`` for manual fixes.
    """
    options = dict({'statoverride': True, 'dpkg': False}, **(options or {}))
    view = _View(state)
    ops, notes = [], []
    if runas_changed:
        ops.extend(_runas_handover(view))
    for control_id in control_ids:
        control = BY_ID[control_id]
        expected = expected_by_id[control_id]
        for action in fix_actions(control, expected):
            kind = action['kind']
            if kind == 'path_attributes':
                ops.extend(_path_ops(view, control_id, action))
            elif kind == 'clear_mode_bits':
                ops.extend(_clear_bits_ops(view, control_id, action, expected, options))
            elif kind == 'statoverride':
                ops.extend(_statoverride_ops(view, control_id, action, options))
            elif kind == 'manual':
                notes.append({'id': control_id, 'reason': control['fix']})
    return ops, notes


def diff_entries(ops: list) -> list:
    """The diff of path and statoverride actions, one before/after pair per control and kind."""
    grouped = {}
    for op in ops:
        if op['kind'] == 'path':
            header = '%s (owner:group mode)' % op['id']
            shown = op['path'] if not op.get('target') else '%s -> %s' % (op['path'], op['target'])
            lines = ('%s: %s\n' % (shown, attributes_text(op['before'])), '%s: %s\n' % (shown, attributes_text(op['after'])))
        elif op['kind'] == 'statoverride':
            header = '%s (dpkg-statoverride)' % op['id']
            lines = ('%s %s\n' % (op['before'], op['path']) if op['before'] else '', '%s %s\n' % (op['after'], op['path']))
        else:
            continue
        item = grouped.setdefault(header, {'before_header': header, 'after_header': header, 'before': '', 'after': ''})
        item['before'] += lines[0]
        item['after'] += lines[1]
    return list(grouped.values())
