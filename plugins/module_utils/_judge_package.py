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
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_package import ATTRIBUTES

KINDS = ('intended', 'configuration', 'timestamp', 'unexplained')


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


def package_drift(verify: dict | None, findings: list, state: dict) -> dict | None:
    """What the package manager says, judged: each entry with its ``kind`` (one of KINDS), the ``controls`` that
    explain it and ``why``; ``update_undoes``: the controls whose changes a package update puts back (not those on a
    ghost, which an update never installs)."""
    if verify is None:
        return None
    status = {item['id']: item['status'] for item in findings}
    read_by = readers(state, [control_id for control_id in status if control_id in BY_ID])
    entries = []
    for entry in verify['entries']:
        kind, controls, why = judge_entry(entry, read_by.get(entry['path'], []), status)
        entries.append(dict(entry, kind=kind, controls=controls, why=why))
    undoes = sorted({control_id for entry in entries if entry['kind'] == 'intended' and not entry.get('ghost')
                     for control_id in entry['controls']})
    return dict(verify, entries=entries, update_undoes=undoes,
                unexplained=[entry['path'] for entry in entries if entry['kind'] == 'unexplained'])


def update_undoes(verify: dict | None, findings: list, state: dict, steps: list = ()) -> dict | None:
    """What an update or reinstall of the package puts back: ``undoes``, each path of the package a control has given
    other attributes than the package's (``id``: the control that reads it, ``path``, and the ``owner``, ``group`` and
    ``mode`` the baseline left there, to put back after it), from rpm -V as judged and from the path ``steps`` a run
    changes (in check mode, would change) on the package's files, so that check mode and the real run name the same;
    ``unexplained`` as in package_drift. None where the package keeps no modes."""
    if verify is None:
        return None
    judged = package_drift(verify, findings, state)
    wanted = {}
    for entry in judged['entries']:
        if entry['kind'] == 'intended' and not entry.get('ghost'):  # an update never installs a ghost
            now = (state.get('paths') or {}).get(entry['path']) or {}
            wanted[entry['path']] = ({key: now.get(key) for key in ('owner', 'group', 'mode')}, entry['controls'])
    files = set(verify.get('files') or [])
    for step in steps:
        if step.get('kind') == 'path' and step.get('changed') and step.get('target') in files and step.get('after'):
            wanted[step['target']] = ({key: step['after'].get(key) for key in ('owner', 'group', 'mode')}, [step['id']])
    read_by = readers(state, [item['id'] for item in findings if item['id'] in BY_ID])
    undoes = [dict(attributes, id=control_id, path=path) for path, (attributes, fallback) in sorted(wanted.items())
              for control_id in read_by.get(path) or fallback]
    return {'manager': verify['manager'], 'package': verify['package'], 'error': verify['error'],
            'undoes': sorted(undoes, key=lambda item: (item['id'], item['path'])), 'unexplained': judged['unexplained']}
