# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The package manager's differences told apart: what the baseline changed on purpose, and what nothing explains.

A hardened host differs from its package: the baseline wants other owners and modes than the package ships. Each
file ``rpm -V`` names is judged here against the controls that read it. An owner, group or mode that differs on a
path a control reads, while that control passes, is that control's intended change (an update of the package or
``rpm --setperms``/``--setugids`` puts the package's back, and the control fails again). A configuration file's
content is the site's. Anything else (a program's content, a missing file, an owner or mode no passing control
asks for) is not the baseline's doing, and is reported as such.
"""

from __future__ import annotations

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, fix_targets
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import judge_path, owner_names
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_package import ATTRIBUTES


def readers(state: dict, control_ids) -> dict:
    """Path to the ids of the controls (among ``control_ids``) whose check reads it."""
    layout = state.get('layout') or {}
    found = {}
    for control_id in control_ids:
        groups, _follow = fix_targets(BY_ID[control_id])
        for group in groups:
            items = layout.get(group) or []
            paths = [path for item in items for path in item['paths']] if group == 'maps' else list(items)
            for path in paths:
                found.setdefault(path, [])
                if control_id not in found[path]:
                    found[path].append(control_id)
    return found


def judge_entry(entry: dict, controls: list, status: dict) -> tuple:
    """(kind, controls, why) of one file rpm -V names."""
    if entry['missing']:
        return 'unexplained', [], 'the file is gone'
    attributes = [word for word in entry['changed'] if word in ATTRIBUTES]
    content = [word for word in entry['changed'] if word not in ATTRIBUTES and word != 'mtime']
    why = []
    if content and not entry['config']:
        why.append('its %s differs from the package and it is not a configuration file' % ' and '.join(content))
    passing = [control_id for control_id in controls if status.get(control_id) == 'pass']
    if attributes and not passing:
        why.append('its %s differs from the package and no passing control asks for it%s'
                   % (' and '.join(attributes), ' (%s read it)' % ', '.join(controls) if controls else ''))
    if why:
        return 'unexplained', controls, '; '.join(why)
    if attributes:
        return 'intended', passing, 'the %s %s sets' % (' and '.join(attributes), ', '.join(passing))
    if content:
        return 'configuration', [], 'a configuration file, the site\'s to edit'
    return 'timestamp', [], 'only its modification time differs'


def package_drift(verify: dict | None, findings: list, state: dict, expected: dict | None = None) -> dict | None:
    """What the package manager says, judged: each entry with its ``kind`` (intended, configuration, timestamp or unexplained), the ``controls`` that
    explain it and ``why``; ``update_undoes``: the controls whose changes an update of the package puts back (see
    update_undoes; ``expected``, the expected values by control id, lets it tell)."""
    if verify is None:
        return None
    status = {item['id']: item['status'] for item in findings}
    read_by = readers(state, [control_id for control_id in status if control_id in BY_ID])
    entries = []
    for entry in verify['entries']:
        kind, controls, why = judge_entry(entry, read_by.get(entry['path'], []), status)
        entries.append(dict(entry, kind=kind, controls=controls, why=why))
    undone = undoes(verify, state, expected or {}) if expected is not None else []
    return dict(verify, entries=entries, update_undoes=sorted({item['id'] for item in undone}),
                unexplained=[entry['path'] for entry in entries if entry['kind'] == 'unexplained'])


def _attributes(value: dict | None) -> dict | None:
    return {key: value.get(key) for key in ATTRIBUTES} if value else None


def _handed_over(state: dict) -> set:
    """What SM-RUNAS-01's fix gives the RunAsUser: the files queued in the MTA queue and the MTA's statistics file."""
    layout = state.get('layout') or {}
    found = set(layout.get('status') or [])
    for queue in layout.get('queue_mta') or []:
        listing = (state.get('queue_files') or {}).get(queue) or {}
        found.update(item['path'] for item in (listing.get('files') or []) + (listing.get('dirs') or []))
    return found


def undoes(verify: dict, state: dict, expected: dict, steps: list = ()) -> list:
    """Each file the package installs whose owner, group or mode the baseline sets other than the package records:
    ``id`` (the control whose fix sets it), ``path``, and the ``owner``, ``group`` and ``mode`` to put back after an
    update. What the path steps of this run (in check mode, the planned ones) leave, else what the host has; a
    difference counts where the control that reads the path accepts the path as it is and not as the package
    records it, or where the path is one SM-RUNAS-01 hands to the RunAsUser. Nothing here depends on whether a control
    passes before or after the run: check mode, the real run and the next run name the same."""
    recorded = verify.get('recorded') or {}
    after, made_by = {}, {}
    for entry in verify['entries']:
        now = (state.get('paths') or {}).get(entry['path']) or {}
        if entry['path'] in recorded and now.get('exists') and now.get('type') != 'link':
            after[entry['path']] = _attributes(now)
    for step in steps:
        if step.get('kind') == 'path' and step.get('changed') and step.get('target') in recorded and step.get('after'):
            after[step['target']] = _attributes(step['after'])
            made_by.setdefault(step['target'], step['id'])
    read_by = readers(state, [control_id for control_id in expected if control_id in BY_ID])
    handed = _handed_over(state)
    run_as = owner_names(state, ['@RunAsUser'])
    found = []
    for path, now in sorted(after.items()):
        package = recorded[path]
        if now == package:
            continue
        ids = [control_id for control_id in read_by.get(path, []) if _accepts(state, control_id, expected, now) and not (
            _accepts(state, control_id, expected, package))]
        if not ids and path in handed and run_as and now['owner'] in run_as and package['owner'] not in run_as:
            ids = ['SM-RUNAS-01']
        if not ids and made_by.get(path):
            ids = [made_by[path]]
        found.extend(dict(now, id=control_id, path=path) for control_id in ids)
    return sorted(found, key=lambda item: (item['id'], item['path']))


def _accepts(state: dict, control_id: str, expected: dict, attributes: dict) -> bool:
    """Whether the path specification of the control accepts a path with these owner, group and mode."""
    spec = expected.get(control_id) or {}
    if 'owner' not in spec or 'mode' not in spec or spec.get('private'):
        return False
    entry = dict(attributes, path='', exists=True, type='file', error=None)
    return judge_path(entry, spec, owner_names(state, spec['owner']))[0] == 'pass'


def update_undoes(verify: dict | None, findings: list, state: dict, steps: list = (), expected: dict | None = None) -> dict | None:
    """What an update or reinstall of the package puts back (``undoes``, see undoes) and ``unexplained`` as in
    package_drift. None where the package keeps no modes."""
    if verify is None:
        return None
    judged = package_drift(verify, findings, state)
    return {'manager': verify['manager'], 'package': verify['package'], 'error': verify['error'],
            'undoes': undoes(verify, state, expected or {}, steps), 'unexplained': judged['unexplained']}
