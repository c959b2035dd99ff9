# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""What one control's fix needs of another's (the catalogue's ``REQUIRES``), judged on a hardening plan.

Pure: from the host's state before, the state the plan leaves and the plan's steps. The engine plans,
asks ``settle`` which needed fixes to take too and which steps to hold back, and plans again with
those; nothing here knows a control by its id.
"""

from __future__ import annotations

import copy

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    BY_ID, CONTROLS, REQUIRES, applies_to, fix_targets, matches,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import find_waiver, owner_names, path_problems

# The keys of a path specification a requirement may rely on.
KEYS = ('owner', 'group', 'mode', 'require')
# Steps that can be held back one by one; any other (a .cf option) holds back the whole control.
PATH_KINDS = ('path', 'statoverride')
_ORDER = [control['id'] for control in CONTROLS]


def required_ids() -> list:
    """Every control some fix needs, in catalogue order."""
    return sorted({item['id'] for items in REQUIRES.values() for item in items}, key=_ORDER.index)


def closure(ids) -> list:
    """The controls the fixes of ``ids`` need, directly or through one another, that are not among ``ids``;
    in catalogue order."""
    found, todo = [], list(ids)
    while todo:
        for requirement in REQUIRES.get(todo.pop(), ()):
            if requirement['id'] not in ids and requirement['id'] not in found:
                found.append(requirement['id'])
                todo.append(requirement['id'])
    return sorted(found, key=_ORDER.index)


def first(ids) -> list:
    """``ids`` in the order given, but each control after the controls among them its fix needs: the needed
    step runs first, so that no step leaves the host without what the next one relies on."""
    placed, pending = [], list(ids)
    while pending:
        ready = next((control_id for control_id in pending
                      if all(item['id'] not in pending for item in REQUIRES.get(control_id, ()))), pending[0])
        placed.append(ready)
        pending.remove(ready)
    return placed


def after_steps(state: dict, steps: list) -> dict:
    """``state`` with the owners, groups and modes its ``path`` steps set (a followed link's target in its place)."""
    paths = copy.deepcopy(state.get('paths') or {})
    for item in steps:
        entry = paths.get(item['target']) if item['kind'] == 'path' else None
        judged = (entry or {}).get('target') if item.get('resolved') else entry
        if judged:
            judged.update(item['after'])
    return dict(state, paths=paths)


def unavailable(exclude, waivers, host_name: str, today, os_family) -> dict:
    """Control id -> why its fix cannot be taken along with another's: the user excluded it (a family switched
    off is excluded too), an active waiver accepts it as it is, or it does not apply on this OS family."""
    found = {}
    for control_id in required_ids():
        control = BY_ID[control_id]
        words = [word for word in exclude or () if matches(control, word)]
        waiver = find_waiver(control_id, waivers, host_name, today)
        if words:
            found[control_id] = '%s is excluded (exclude: %s)' % (control_id, ', '.join(words))
        elif waiver and not waiver['expired']:
            found[control_id] = '%s is waived%s: %s' % (
                control_id, ' until %s' % waiver['expires'] if waiver['expires'] else '', waiver['reason'])
        elif not applies_to(control, os_family):
            found[control_id] = '%s does not apply on %s' % (control_id, os_family)
    return found


def _judged(entry: dict | None, follow: bool) -> dict | None:
    """The entry a path check judges (a link's target where the check follows it); None when there is nothing to judge."""
    if entry and entry.get('type') == 'link':
        entry = entry.get('target') if follow else None
    return entry if entry and entry.get('exists') and not entry.get('error') else None


def _lacks(entry: dict | None, spec: dict, keys, owners: list) -> list:
    """What a path lacks of the ``keys`` of a path specification; the other keys are not judged."""
    if entry is None:
        return []
    relaxed = {'group': spec.get('group') if 'group' in keys else None,
               'mode': spec['mode'] if 'mode' in keys else '7777',
               'ignore': spec.get('ignore') if 'mode' in keys else '0000',
               'require': spec.get('require') if 'require' in keys else '0000'}
    return path_problems(entry, relaxed, owners if 'owner' in keys else [entry['owner']])


def unmet(requirement: dict, expected: dict, before: dict, after: dict, touched) -> list:
    """The paths the needed control reads that ``after`` leaves without the requirement's keys, where the plan
    made it so: its steps change the path (``touched``), or the path had them in ``before``; or in any case where
    the requirement says ``always`` (the fix makes sendmail judge the path more strictly than before)."""
    groups, follow = fix_targets(BY_ID[requirement['id']])
    keys = requirement['keys']
    owners_before, owners_after = owner_names(before, expected['owner']), owner_names(after, expected['owner'])
    found = []
    for group in groups:
        for path in (after.get('layout') or {}).get(group) or []:
            now = _judged((after.get('paths') or {}).get(path), follow)
            if path in found or not _lacks(now, expected, keys, owners_after):
                continue
            then = _judged((before.get('paths') or {}).get(path), follow)
            if path in touched or requirement.get('always') or (then is not None and not _lacks(then, expected, keys, owners_before)):
                found.append(path)
    return found


def _say(requirement: dict, expected: dict, after: dict, paths: list) -> str:
    owners = owner_names(after, expected['owner'])
    return requirement['why'].format(path=', '.join(paths), owner=owners[0] if owners else 'nobody',
                                     group=(expected.get('group') or ['any group'])[0])


def settle(ids, steps: list, before: dict, after: dict, expected_by_id: dict, lacking: dict) -> tuple:
    """(taken, held) of a plan: the needed fixes to take too, and the steps to hold back.

    ``ids`` are the controls the plan fixes, ``steps`` its steps that apply, ``before`` the host as read,
    ``after`` as the plan leaves it, ``lacking`` id -> why a control cannot be taken (see ``unavailable``).
    ``taken``: {id, for, why}. ``held``: {id, requires, paths, steps, whole, why}; ``whole`` where the need
    does not come from owner and mode steps on the needed control's paths (a .cf option): the control is
    then left out of the plan, else just ``steps`` are. A needed control the plan fixes already that still
    leaves the need holds back too: its fix does not give it.
    """
    taken, held = [], []
    for control_id in ids:
        mine = [item for item in steps if item['id'] == control_id]
        if not mine:
            continue
        touched = {path for item in mine for path in (item['target'], item.get('resolved')) if path}
        for requirement in REQUIRES.get(control_id, ()):
            needed = requirement['id']
            paths = unmet(requirement, expected_by_id[needed], before, after, touched)
            if not paths:
                continue
            why = _say(requirement, expected_by_id[needed], after, paths)
            if needed in lacking or needed in ids:
                causing = [item for item in mine if {item['target'], item.get('resolved')} & set(paths)]
                whole = not causing or any(item['kind'] not in PATH_KINDS for item in causing)
                held.append({'id': control_id, 'requires': needed, 'paths': paths, 'steps': mine if whole else causing,
                             'whole': whole, 'why': 'held back: %s, and %s' % (
                                 why, lacking.get(needed) or "%s's fix does not give it here" % needed)})
            elif needed not in [item['id'] for item in taken]:
                taken.append({'id': needed, 'for': control_id, 'why': '%s taken too: %s' % (needed, why)})
    return taken, held
