# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The hardening plan: pure functions from a host's state and findings to an ordered list of steps.

Nothing here reads or writes the host. A step is a plain dict: ``id`` (the control it fixes, or
None for upkeep such as a stale map database), ``kind``, ``phase``, ``target``, ``before``,
``after`` and ``why``, plus what its kind needs. The phases run in this order:

1. ``maps``: stale alias and map databases rebuilt (``map_rebuild``);
2. ``paths``: owners and modes sendmail's own file-safety checks look at, and every other
   owner and mode that does not depend on a new RunAsUser (``path``), so that a stricter
   .cf validated next finds safe paths;
3. ``config``: alias files edited (``alias_edit``: an entry commented out or added, through links
   only in directories only root can write to) and the alias database rebuilt; then options of
   sendmail.cf and submit.cf (``cf_option``, ``mc_feature``, ``cf_listen``), one validated replacement per file;
4. ``handover``: what the MTA writes goes to the user it now runs as (``path``), only once
   the .cf that names that user is in place;
5. ``pins``: dpkg-statoverride entries (``statoverride``), after the files they pin.

Each phase leaves a host whose sendmail accepts its configuration and runs: the path fixes
only tighten what the old .cf accepts; the new .cf is accepted before it is installed; the
handover gives the queue to the user the installed .cf names.

Steps the hardening cannot take are of kind ``manual`` (the catalogue's fix is by hand, or a
value is missing) and ``refuse`` (changing the path would not be safe); those it does not take are of
kind ``held`` (they need another control's fix the user left out) and ``waived`` (a waiver accepts the
control as it is). None is ever applied or counted as a change.
"""

from __future__ import annotations

import copy
import os

from ansible_collections.mailsec.sendmail.plugins.module_utils import _aliases, _plan_listen
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf, run_as_parts, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import option_values
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    BY_ID, DERIVE, SMRSH_DIRS, fix_actions, forward_entries, number_in_force, within_bound,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import (
    DRIFT_STATUSES as FAILING, evaluate_control, judge_path, owner_names, setuid_root_files, smrsh_interpreters,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan_requires import first
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import pin_text
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_runas_impact import item_text, items_text
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import FOLLOWED_GROUPS, account_tokens, layout
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_tls import DERIVE as TLS_DERIVE
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import ALIASES, CONFIGS, platform

PHASES = ('maps', 'paths', 'config', 'handover', 'pins')
APPLIED = ('alias_edit', 'map_rebuild', 'path', 'empty_file', 'unlink', 'cf_option', 'mc_feature', 'cf_listen', 'statoverride',
           'self_signed')
# Steps that change a .cf: carried out together, one validated replacement per file.
CONFIG_KINDS = ('cf_option', 'mc_feature', 'cf_listen')
NOT_APPLIED = ('manual', 'refuse', 'held', 'waived')
CF_SOURCES = ('auto', 'mc', 'cf')
RUNAS_OWNERS = ('@RunAsUser', '@MTAUser')
# How a cf_option fix computes its value from the option's current one: the catalogue's, and the STARTTLS options'.
DERIVES = dict(DERIVE, **TLS_DERIVE)


class PlanError(ValueError):
    """The host or the options cannot give one consistent plan; the message is one sentence."""


def _octal(text) -> int:
    return int(str(text or '0'), 8)


def step(control_id, kind: str, phase: str | None, target, before, after, why: str, **extra) -> dict:
    """One step of the plan."""
    return dict({'id': control_id, 'kind': kind, 'phase': phase, 'target': target, 'before': before, 'after': after,
                 'why': why}, **extra)


def manual(control_id: str, why: str, target=None) -> dict:
    return step(control_id, 'manual', None, target, None, None, why)


def refuse(control_id: str, target: str, why: str) -> dict:
    return step(control_id, 'refuse', None, target, None, None, why)


def waived(finding: dict) -> dict:
    """The step a waived control gets instead of its fix: the waiver's reason and expiry, said."""
    waiver = finding['waiver']
    until = ' until %s' % waiver['expires'] if waiver['expires'] else ''
    return step(finding['id'], 'waived', None, None, None, None, 'waived%s: %s' % (until, waiver['reason']),
                reason=waiver['reason'], expires=waiver['expires'])


def expired_waivers(findings: list) -> list:
    """A note for each finding whose waiver has expired: it is judged, and fixed, as if there were none."""
    return ['The waiver of %s (%s) expired on %s: it no longer applies' % (item['id'], item['waiver']['reason'], item['waiver']['expires'])
            for item in findings if item.get('waiver') and item['waiver']['expired']]


# The controls whose fixes change the queues: where one is selected or fixed, the entries of the queues are looked at.
QUEUE_CONTROLS = ('SM-QUEUE-01', 'SM-QUEUE-02', 'SM-QUEUE-03')
# The control that judges the entries of the queues: where it is selected, the entries refused are its own, by hand.
QUEUE_ENTRIES = 'SM-QUEUE-03'


def queue_entries(selected: list, ids: list) -> tuple:
    """(whether the plan changes the queues, the control the queue entries it refuses are charged to, or None)."""
    touches = bool(set(QUEUE_CONTROLS) & (set(selected) | set(ids)))
    return touches, QUEUE_ENTRIES if QUEUE_ENTRIES in selected else None


def left_by_hand(failing: list, aliases: list, impact_before, impact) -> list:
    """The failing controls left to do by hand: all but SM-RUNAS-02 where the alias edits take away every delivery
    that needed root (see ``credit_runas_impact``)."""
    return [control_id for control_id in failing
            if not (control_id == 'SM-RUNAS-02' and credit_runas_impact(aliases, impact_before, impact))]


def failing_ids(findings: list) -> list:
    """The ids of the findings sendmail_drift counts as drift (fail or error), in catalogue order."""
    return [item['id'] for item in findings if item['status'] in FAILING]


def attributes_text(attributes: dict | None) -> str:
    """'owner:group mode' of a planned or read entry; 'absent' for none."""
    if not attributes:
        return 'absent'
    return '%s:%s %s' % (attributes['owner'], attributes['group'], attributes['mode'])


# --- the RunAsUser gate ---------------------------------------------------------------------------------


# The deliveries one message names; the audit's finding and the result list the rest.
ITEMS_SAID = 10


def runas_gate(failing: list, impact: dict | None, force: bool) -> tuple:
    """(failing ids to fix, steps) once SM-RUNAS-02 has had its say: where setting RunAsUser would break
    deliveries, SM-RUNAS-01 is left alone with one manual step naming them, unless ``force``."""
    items = (impact or {}).get('items') or []
    if 'SM-RUNAS-01' not in failing or (impact or {}).get('set') or not items or force:
        return failing, []
    why = ('RunAsUser=%s left unset: %d deliver%s on this host need%s root (%s); the rest is hardened. Move them, or set '
           'run_as_user_force (the role: sendmail_hardening_run_as_user_force) to set RunAsUser anyway'
           % (impact['user'], len(items), 'y' if len(items) == 1 else 'ies', 's' if len(items) == 1 else '',
              items_text(items, ITEMS_SAID)))
    return [control_id for control_id in failing if control_id != 'SM-RUNAS-01'], [manual('SM-RUNAS-01', why)]


def without_disabled(impact: dict | None, steps: list) -> dict | None:
    """The RunAsUser impact without the deliveries of the aliases the plan comments out: they stop either way."""
    disabled = disabled_aliases(steps)
    if not impact or not disabled:
        return impact
    items = [item for item in impact.get('items') or []
             if not (item['kind'] == 'alias' and (item['path'], str(item.get('user') or '').lower()) in disabled)]
    return dict(impact, items=items)


def credit_runas_impact(steps: list, before: dict | None, after: dict | None) -> bool:
    """Whether commenting out aliases leaves no delivery that needs root: then those edits fix SM-RUNAS-02 too
    (``also`` of each edit that took one away), and it has nothing left to do by hand."""
    if not (before or {}).get('items') or (after or {}).get('items'):
        return False
    for item in steps:
        if item['kind'] == 'alias_edit' and item['disabled']:
            item['also'] = ['SM-RUNAS-02']
    return True


def runas_breaks(steps: list, impact: dict | None) -> list:
    """What stops working when the plan sets RunAsUser on a host that has none, although deliveries need
    root (forced: the gate let it through)."""
    sets = any(item['kind'] == 'cf_option' and item['option'] == 'RunAsUser' and item['config'] == 'mta' for item in steps)
    return [item_text(item) for item in (impact or {}).get('items') or []] if sets and not (impact or {}).get('set') else []


# --- config: options of the .cf files -------------------------------------------------------------


def _bounded(control_id: str, action: dict, config: dict, value: str, where: str):
    """(value to set, manual note) of a cf_option fix with a ``bound``: nothing where the option is within
    it; a limit above its bound is the site's and never lowered (a note says so, naming ``where``)."""
    current_text = ((config.get('values') or {}).get(action['option']) or [None])[-1]
    current, limit = number_in_force(action['option'], current_text), int(value)
    if current is not None and within_bound(action['bound'], current, limit):
        return None, None
    if action['bound'] == 'max' and current:
        return None, manual(control_id, '%s=%s in %s is above %d: a limit the site set is not lowered here; lower it, or '
                            'raise the bound in expected.%s' % (action['option'], current_text, where, limit, control_id),
                            config['path'])
    return value, None


def _option_value(control_id: str, action: dict, expected: dict, config: dict, state: dict, where: str | None = None,
                  made=()) -> tuple:
    """(value to set, manual note) of one ``cf_option`` fix judged on ``config``: (None, None) where the option is
    within its bound. ``where`` names the place of the value judged (the .cf's path by default); ``made`` the files
    the plan makes (a self-signed pair), which a ``must_exist`` option may name."""
    value = action.get('value')
    if value is None and action.get('derive'):
        current = (config.get('settings') or {}).get(action['option'])
        value = DERIVES[action['derive']](current, expected, BY_ID[control_id]['params'])
    if value not in (None, '') and action.get('bound'):
        value, note = _bounded(control_id, action, config, str(value), where or config['path'])
        if value is None:
            return None, note
    if action.get('gate') == 'forward_files':
        kept = forward_entries(value) if value else []
        blocked = [item for item in state.get('forward_files') or [] if item['entry'] not in kept]
        if blocked:
            return None, manual(control_id, '%s left as it is: %d users have files on the entries it would drop '
                                '(%s); move them, or choose another policy in expected.%s' % (
                                    action['option'], len(blocked), ', '.join(item['path'] for item in blocked[:ITEMS_SAID]),
                                    control_id), config['path'])
    if value is None and action.get('unset'):  # a value only the user can give: the control's fix says how, once
        return None, manual(control_id, BY_ID[control_id]['fix'], config['path'])
    if value and action.get('must_exist') and value not in made and not ((state.get('paths') or {}).get(value) or {}).get('exists'):
        return None, manual(control_id, '%s left as it is: %s does not exist; put it there, or name another in expected.%s'
                            % (action['option'], value, control_id), config['path'])
    if value is None or (value == '' and not action.get('empty_ok')):
        return None, manual(control_id, 'no value to set for %s in %s: give it in expected.%s'
                            % (action['option'], config['path'], control_id), config['path'])
    return str(value), None


def pending_define(state: dict, action: dict) -> dict | None:
    """The administrator's decision on the option of a ``cf_option`` fix that the installed .cf does not hold yet:
    the .mc beside it defines it and builds other values (``values``: as m4 writes them, or the define's own value
    where nothing builds the .mc). None where the .mc does not define it, or builds what the .cf has."""
    found = (state.get('cf_sources') or {}).get(action['config']) or {}
    defines = found.get('defines') or {}
    if action['define'] not in defines:
        return None
    values = option_values(found['built'], action['option']) if found.get('built') else [defines[action['define']]]
    installed = list((state['configs'][action['config']].get('values') or {}).get(action['option']) or [])
    if values == installed:
        return None
    return {'mc': found['mc'], 'define': action['define'], 'values': values}


def _values_text(values: list) -> str:
    return ', '.join(values) if values else 'unset'


def _keeps(control_id: str, action: dict, expected: dict, state: dict, pending: dict) -> tuple:
    """(kept, manual note, value) of a pending define, judged as if the .cf held what the .mc builds: kept where the
    control passes with it, or the plan would leave it as it is; a note where the plan would not change it either (a
    limit the site set above its bound is never lowered); else not kept, with the value the plan replaces it by
    (derived from it, where the fix derives its value: the site's own words stay)."""
    option = action['option']
    parsed = parse_cf(''.join('O %s=%s\n' % (option, value) for value in pending['values']))
    config = state['configs'][action['config']]
    decided = dict(config, path=pending['mc'], settings=dict(config.get('settings') or {}, **{option: settings(parsed).get(option)}),
                   values=dict(config.get('values') or {}, **{option: list(pending['values'])}))
    if evaluate_control(BY_ID[control_id], expected, dict(state, configs=dict(state['configs'], **{action['config']: decided})))[
            'status'] == 'pass':
        return True, None, None
    value, note = _option_value(control_id, action, expected, decided, state, '%s (define %s, not built yet)' % (
        pending['mc'], pending['define']))
    if note is not None:
        return False, note, None
    return value is None or [value] == pending['values'], None, value


def _pending_why(control_id: str, pending: dict, value: str) -> str:
    said = "%s's define %s %s, not built yet," % (pending['mc'], pending['define'], pending['value'])
    if not pending['kept']:
        return '%s does not meet %s: replaced by %s' % (said, control_id, value)
    return '%s meets %s: %s' % (said, control_id, 'built as it is' if pending['built'] else 'kept there for the next rebuild')


def option_steps(control_ids: list, expected_by_id: dict, state: dict, cf_source: str = 'auto') -> tuple:
    """The ``cf_option`` steps of the failing ``control_ids`` and the manual notes of values left unset.

    ``before`` is the option's values in the installed file (a list), ``after`` the value to set;
    an option already holding exactly that value gives no step. A ``derive`` action computes the value
    from what the option holds now; a ``bound`` action changes only an option outside its bound. Two
    controls asking one option for different values raise PlanError.

    A define the .mc holds and the installed .cf does not (``pending_define``) is the administrator's decision,
    judged as the .cf's own value would be. Where it meets the control, the step's ``pending`` says it is
    ``kept``: its define is not set in the .mc, and where the .cf is rebuilt (``cf_source``, see choose_source)
    the step sets what the .mc builds; else the plan replaces it by what it would set were the .cf holding it, and
    the step's ``why`` names both values. A limit above its bound there is the site's, as in the .cf: a note, no step.
    """
    steps, notes, wanted = [], [], {}
    for control_id in control_ids:
        expected = expected_by_id[control_id]
        made, note = self_signed_pair(control_id, expected, state)
        if note is not None:  # the pair cannot be made: none of the control's options is set, the note says why
            notes.append(note)
            continue
        for action in fix_actions(BY_ID[control_id], expected):
            if action['kind'] != 'cf_option':
                continue
            config = state['configs'][action['config']]
            value, note = _option_value(control_id, action, expected, config, state, made=made)
            if value is None:
                notes.extend([note] if note and note not in notes else [])
                continue
            before = list(config.get('values', {}).get(action['option']) or [])
            why = '%s is %s' % (action['option'], ', '.join(before) if before else 'unset')
            extra = {}
            pending = pending_define(state, action) if before != [value] else None
            if pending:
                kept, note, replacement = _keeps(control_id, action, expected, state, pending)
                if note is not None:
                    notes.append(note)
                    continue
                built = kept and choose_source(cf_source, state['cf_sources'][action['config']]) == 'mc'
                if built:  # the rebuild makes what the .mc defines
                    value = pending['values'][-1] if pending['values'] else ''
                elif not kept:
                    value = replacement
                extra['pending'] = {'mc': pending['mc'], 'define': pending['define'], 'value': _values_text(pending['values']),
                                    'kept': kept, 'built': built}
                why += '; ' + _pending_why(control_id, extra['pending'], value)
            key = (action['config'], action['option'])
            if key in wanted and wanted[key][1] != value:
                raise PlanError('%s asks %s=%s in %s but %s asks %s; make the expected values agree'
                                % (control_id, action['option'], value, config['path'], wanted[key][0], wanted[key][1]))
            wanted[key] = (control_id, value)
            if before == [value]:
                continue
            steps.append(step(control_id, 'cf_option', 'config', config['path'], before, value, why,
                              config=action['config'], option=action['option'], define=action['define'], **extra))
    return steps, notes


def pending_said(steps: list) -> str:
    """What the summary says of the defines a .mc held that its .cf did not: kept, built, or replaced and by what."""
    said = {}
    for item in steps:
        pending = item.get('pending')
        if pending:
            outcome = ('built' if pending['built'] else 'kept') if pending['kept'] else 'replaced by %s' % item['after']
            said.setdefault(os.path.basename(pending['mc']), []).append('%s %s %s' % (pending['define'], pending['value'], outcome))
    return ''.join('; defines pending in %s: %s' % (name, ', '.join(items)) for name, items in said.items())


def disabled_aliases(steps: list) -> set:
    """(alias file, alias name) of each entry the ``alias_edit`` steps comment out."""
    return {(item['source'], name.lower()) for item in steps if item['kind'] == 'alias_edit' for name in item['disabled']}


def programs_in_use(state: dict, alias_edits=()) -> list:
    """(where, command) of each program mail is piped into: the alias entries (but those ``alias_edits``
    comment out), the :include: lists they name and the users' .forward files (with their lists); a file
    that could not be read gives command None."""
    disabled = disabled_aliases(alias_edits)
    lists = state.get('alias_includes') or {}
    found = []
    for path, source in sorted((state.get('alias_sources') or {}).items()):
        for entry in source.get('entries') or []:
            if (path, entry['name'].lower()) in disabled:
                continue
            where = '%s: %s' % (path, entry['name'])
            for kind, value in entry['targets']:
                if kind == 'program':
                    found.append((where, value))
                elif kind == 'include' and value in lists:
                    listed = lists[value]
                    found.extend([('%s, :include:%s' % (where, value), None)] if listed is None else
                                 [('%s, :include:%s' % (where, value), command) for command in listed])
    for item in state.get('forward_files') or []:
        if item.get('programs') is None:
            found.append((item['path'], None))
        found.extend((item['path'], value) for value in item.get('programs') or [])
    return found


def smrsh_missing(state: dict, alias_edits=()) -> list:
    """The programs in use that smrsh would not run: their name is not in its directory."""
    names = {entry['name'] for entry in state.get('smrsh_entries') or []}
    missing = []
    for where, command in programs_in_use(state, alias_edits):
        if command is None:
            missing.append('%s (not readable: its programs are not known)' % where)
        elif _aliases.smrsh_name(command) not in names:
            missing.append('%s (%s)' % (where, command))
    return missing


def smrsh_remove_steps(control_ids: list, expected_by_id: dict, state: dict, alias_edits=()) -> list:
    """The ``unlink`` steps of a failing SM-PROG-03: each shell or interpreter in smrsh's directory removed,
    but one that a program in use needs (then a manual step names it)."""
    found = []
    for control_id in control_ids:
        control = BY_ID[control_id]
        if not any(action['kind'] == 'smrsh_remove' for action in fix_actions(control, expected_by_id[control_id])):
            continue
        used = {}
        for where, command in programs_in_use(state, alias_edits):
            word = _aliases.command_word(command or '')
            used.setdefault(os.path.basename(word) if word else '', []).append(where)
        for item in smrsh_interpreters(state, control['params']['interpreters'], expected_by_id[control_id]['allowed']):
            if item['name'] in used:
                found.append(manual(control_id, '%s (%s) left: %s run it' % (item['path'], item['as'], ', '.join(used[item['name']])),
                                    item['path']))
            else:
                found.append(step(control_id, 'unlink', 'paths', item['path'], item['name'], None,
                                  '%s is %s, and nothing this host delivers runs it' % (item['path'], item['as'])))
    return found


def feature_steps(control_ids: list, expected_by_id: dict, state: dict, alias_edits=()) -> tuple:
    """The ``mc_feature`` steps (a FEATURE removed from or added to the .mc, the .cf rebuilt from it) of the
    failing ``control_ids``, and manual notes where the .mc does not call the feature the .cf was built with,
    or where smrsh would not run a program in use."""
    steps, notes = [], []
    for control_id in control_ids:
        control = BY_ID[control_id]
        for action in fix_actions(control, expected_by_id[control_id]):
            if action['kind'] == 'mc_feature_add':
                config = state['configs'][action['config']]
                found = (state.get('cf_sources') or {}).get(action['config']) or {}
                missing = smrsh_missing(state, alias_edits)
                if missing:
                    notes.append(manual(control_id, "FEATURE(`%s') not added: smrsh would not run %d programs in use, none of "
                                        'them in its directory (%s): link each there first' % (
                                            action['feature'], len(missing), '; '.join(missing[:ITEMS_SAID])), config['path']))
                elif not (state.get('layout') or {}).get('smrsh_dir'):
                    notes.append(manual(control_id, "FEATURE(`%s') not added: smrsh's directory is not on this host (%s)"
                                        % (action['feature'], ', '.join(SMRSH_DIRS)), config['path']))
                else:
                    steps.append(step(control_id, 'mc_feature', 'config', config['path'], None, "FEATURE(`%s')" % action['feature'],
                                      'the prog mailer runs any command', config=action['config'], feature=action['feature'],
                                      mc=found.get('mc'), add=True, in_place=action.get('in_place')))
                continue
            if action['kind'] != 'mc_feature_remove':
                continue
            config = state['configs'][action['config']]
            marks = (config.get('settings') or {}).get('relay_marks') or {}
            found = (state.get('cf_sources') or {}).get(action['config']) or {}
            allowed = expected_by_id[control_id].get('allowed') or []
            for name in control['params']['features']:
                if not marks.get(name) or name in allowed:
                    continue
                if name not in (found.get('features') or []):
                    notes.append(manual(control_id, "%s was built with FEATURE(`%s') but %s does not call it: remove it "
                                        'where the .cf is made, by hand' % (config['path'], name, found.get('mc') or 'no .mc'),
                                        config['path']))
                    continue
                steps.append(step(control_id, 'mc_feature', 'config', config['path'], "FEATURE(`%s')" % name, None,
                                  "%s is built with FEATURE(`%s')" % (config['path'], name), config=action['config'],
                                  feature=name, mc=found['mc'], add=False))
    return steps, notes


def listen_steps(control_ids: list, expected_by_id: dict, state: dict) -> tuple:
    """The ``cf_listen`` steps (every daemon of a config moved to a loopback address) of the failing
    ``control_ids``, and manual notes where that would leave the MSP without its MTA or a daemon has no
    loopback address known here. ``before`` and ``after`` are the DaemonPortOptions values."""
    steps, notes = [], []
    for control_id in control_ids:
        for action in fix_actions(BY_ID[control_id], expected_by_id[control_id]):
            if action['kind'] != 'cf_listen':
                continue
            config = state['configs'][action['config']]
            before = _plan_listen.daemons((config.get('values') or {}).get('DaemonPortOptions') or [])
            after = [_plan_listen.loopback_value(value) for value in before]
            msp = state['configs'].get('msp') or {}
            blocked = [_plan_listen.msp_host_problem((msp.get('settings') or {}).get('MTAHost'), bool(msp.get('settings')))]
            blocked += ['%s: no loopback address is known for its family' % value for value in _plan_listen.unmovable(before)]
            blocked = [reason for reason in blocked if reason]
            if blocked:
                notes.append(manual(control_id, 'DaemonPortOptions left as they are: %s' % '; '.join(blocked), config['path']))
                continue
            if after != before:
                steps.append(step(control_id, 'cf_listen', 'config', config['path'], before, after,
                                  '; '.join(filter(None, (_plan_listen.problem(value) for value in before))),
                                  config=action['config']))
    return steps, notes


def alias_steps(control_ids: list, expected_by_id: dict, state: dict) -> list:
    """The ``alias_edit`` steps of the failing ``control_ids``: entries commented out (``alias_disable``) or
    added to the first alias file (``alias_add``), each step from the text the one before left; and the
    rebuild of the alias database after them."""
    sources = [(path, source) for path, source in sorted((state.get('alias_sources') or {}).items()) if source.get('text') is not None]
    texts = {path: source['text'] for path, source in sources}
    found = []
    for control_id in control_ids:
        expected = expected_by_id[control_id]
        for action in fix_actions(BY_ID[control_id], expected):
            if action['kind'] == 'alias_disable':
                for path, source in sources:
                    hits = _aliases.named(texts[path], expected['names'])
                    if hits:
                        why = 'disabled by mailsec.sendmail (%s): %s' % (control_id, BY_ID[control_id]['title'])
                        found.append(_alias_edit(control_id, path, source, texts, _aliases.disable(texts[path], expected['names'], why),
                                                 'alias %s' % ', '.join(entry['name'] for entry in hits),
                                                 disabled=[entry['name'] for entry in hits]))
            elif action['kind'] == 'alias_add':
                if not sources:
                    found.append(refuse(control_id, ALIASES, 'there is no alias file to add %s to' % ', '.join(expected['names'])))
                    continue
                path, source = sources[0]
                present = {entry['name'].lower() for _p, other in sources for entry in _aliases.entries(texts[_p])}
                missing = [name for name in expected['names'] if name.lower() not in present]
                text = texts[path]
                for name in missing:
                    text = _aliases.add(text, name, expected['target'])
                if missing:
                    found.append(_alias_edit(control_id, path, source, texts, text, 'no alias for %s' % ', '.join(missing)))
    edited = sorted({item['source'] for item in found if item['kind'] == 'alias_edit'})
    if edited:
        found.append(step(None, 'map_rebuild', 'config', 'aliases', 'the alias files changed', 'rebuilt',
                          'the alias files were edited', name='aliases', source=', '.join(edited), map_class='aliases'))
    return found


def _alias_edit(control_id: str, path: str, source: dict, texts: dict, text: str, why: str, disabled=()) -> dict:
    # After the paths phase: the directories the alias file is reached through are root's by then.
    item = step(control_id, 'alias_edit', 'config', source.get('resolved') or path, texts[path], text, why, source=path,
                disabled=list(disabled))
    texts[path] = text
    return item


def empty_file_steps(control_ids: list, expected_by_id: dict, state: dict) -> list:
    """The ``empty_file`` steps of the failing ``control_ids``: an empty root:root 0644 file created where
    there is none; a path that holds something else is refused, never emptied."""
    found = []
    for control_id in control_ids:
        for action in fix_actions(BY_ID[control_id], expected_by_id[control_id]):
            if action['kind'] != 'empty_file':
                continue
            path = action['path']
            entry = (state.get('paths') or {}).get(path) or {'path': path, 'exists': False}
            if entry.get('error'):
                found.append(refuse(control_id, path, '%s: %s' % (path, entry['error'])))
            elif not entry.get('exists'):
                found.append(step(control_id, 'empty_file', 'paths', path, None, {'owner': 'root', 'group': 'root', 'mode': '0644'},
                                  '%s is absent' % path))
            elif entry.get('type') != 'file' or entry.get('size'):
                found.append(refuse(control_id, path, '%s exists and is not an empty file; it is not emptied here: give '
                                    'another path in expected.%s' % (path, control_id)))
    return found


# How long a self-signed certificate the hardening makes is valid, in days.
SELF_SIGNED_DAYS = 825


def _asked_pair(control_id: str, expected: dict):
    """(cert, key) of the control's ``self_signed`` fix where the user asked for a pair; None otherwise."""
    for action in fix_actions(BY_ID[control_id], expected):
        if action['kind'] == 'self_signed' and action.get('when') is True and action.get('cert') and action.get('key'):
            return action['cert'], action['key']
    return None


def self_signed_pair(control_id: str, expected: dict, state: dict) -> tuple:
    """(files the plan makes, manual note) of a control whose fix makes a self-signed pair where asked for: the pair
    where neither file is there and the host has openssl (read with the host: ``transit.openssl``), so that the
    options naming them are set; where it has none, no file and one note, and the control's options are left as they
    are: sendmail.cf never names a file the run does not make. Nothing made and no note otherwise."""
    pair = _asked_pair(control_id, expected)
    if pair is None or any(((state.get('paths') or {}).get(path) or {}).get('exists') for path in pair):
        return (), None
    if not (state.get('transit') or {}).get('openssl'):
        return (), manual(control_id, 'a self-signed pair was asked for, but the host has no openssl: install it, or name a '
                          'certificate and key with sendmail_hardening_tls_cert_file and sendmail_hardening_tls_key_file',
                          pair[1])
    return pair, None


def self_signed_steps(control_ids: list, expected_by_id: dict, predicted: dict) -> list:
    """The ``self_signed`` steps of the failing ``control_ids`` where the user asked for a pair: made where neither
    file is there, its key given to the user the MTA runs as once the plan is carried out (``predicted``), as the
    key control wants it; one of the two there without the other is refused, both there are named as they are."""
    found = []
    transit = predicted.get('transit') or {}
    for control_id in control_ids:
        pair = _asked_pair(control_id, expected_by_id[control_id])
        if pair is not None:
            cert, key = pair
            there = [path for path in (cert, key) if ((predicted.get('paths') or {}).get(path) or {}).get('exists')]
            if len(there) == 1:
                found.append(refuse(control_id, there[0], '%s exists without its %s; no pair is made over it: name both in '
                                    'expected.%s' % (there[0], 'key' if there[0] == cert else 'certificate', control_id)))
            elif not there and transit.get('openssl'):  # without openssl, option_steps' note says so
                owner = owner_names(predicted, ['@MTAUser'])[0]
                group = next((item['group'] for item in (predicted.get('accounts') or {}).values() if item and item['name'] == owner),
                             'root')
                found.append(step(control_id, 'self_signed', 'paths', key, None, {
                    'cert': cert, 'key': key, 'owner': owner, 'group': group, 'days': SELF_SIGNED_DAYS,
                    'subject': '/CN=%s' % (transit.get('host_name') or 'localhost'), 'openssl': transit.get('openssl')},
                    'no certificate or key at %s and %s; a self-signed pair was asked for' % (cert, key)))
    return found


def choose_source(mode: str, found: dict) -> str:
    """How a .cf is changed: ``mc`` (rebuilt from its .mc) or ``cf`` (edited in place).

    ``auto`` rebuilds when the .cf is exactly what its .mc builds and edits in place otherwise;
    ``mc`` refuses (PlanError) where a rebuild is impossible or would drop lines of the .cf.
    """
    agree = found['buildable'] and not found['error'] and not found['only_installed'] and not found['only_built']
    if mode == 'cf':
        return 'cf'
    if mode == 'auto':
        return 'mc' if agree else 'cf'
    if not found['buildable']:
        raise PlanError('cf_source is mc but %s; use auto or cf to edit %s in place' % (found['reason'], found['cf']))
    if found['error']:
        raise PlanError('cf_source is mc but %s' % found['error'].rstrip('.'))
    if found['only_installed']:
        lines = '; '.join('%d: %s' % (item['line'], item['text']) for item in found['only_installed'])
        raise PlanError('cf_source is mc but a rebuild of %s from %s would drop these lines of it: %s; carry them into '
                        'the .mc, or use auto or cf to edit it in place' % (found['cf'], found['mc'], lines))
    return 'mc'


def options_by_config(steps: list, key: str = 'option') -> dict:
    """config (mta, msp) -> {option: value} of the ``cf_option`` steps; with ``key='define'``, the
    m4 defines that make those options in the .mc beside the .cf (but a pending define the step keeps); with
    ``key='feature'``, the FEATUREs the ``mc_feature`` steps add or remove (name -> 'add' or 'remove')."""
    found = {}
    for item in steps:
        if item['kind'] == 'cf_option' and key == 'define' and (item.get('pending') or {}).get('kept'):
            continue
        if item['kind'] == 'cf_option' and key != 'feature':
            found.setdefault(item['config'], {})[item[key]] = item['after']
        elif item['kind'] == 'mc_feature' and key == 'feature':
            found.setdefault(item['config'], {})[item['feature']] = 'add' if item.get('add') else 'remove'
    return found


def account_errors(steps: list, users: dict, groups: set) -> list:
    """Why a RunAsUser the steps would set cannot work here: its user or group does not exist.

    ``users`` maps existing user names to their primary group names, ``groups`` holds existing group names.
    """
    errors = []
    for item in steps:
        if item['kind'] != 'cf_option' or item['option'] != 'RunAsUser':
            continue
        user, group = run_as_parts(item['after'])
        if user not in users and not (user or '').isdigit():
            errors.append('RunAsUser %s for %s (%s): user %s does not exist on this host; create it or give another user '
                          'in expected.%s' % (item['after'], item['target'], item['id'], user, item['id']))
        if group is not None and group not in groups and not group.isdigit():
            errors.append('RunAsUser %s for %s (%s): group %s does not exist on this host; create it or give another group '
                          'in expected.%s' % (item['after'], item['target'], item['id'], group, item['id']))
    return errors


def name_errors(steps: list, users: dict, groups: set) -> list:
    """Owners and groups the path and pin steps would set that the host lacks (an @ token naming a lost user)."""
    errors = []
    for item in steps:
        if item['kind'] == 'path':
            owner, group = item['after']['owner'], item['after']['group']
        elif item['kind'] == 'statoverride':
            owner, group = item['after'].split()[:2]
        else:
            continue
        if owner not in users and not str(owner).isdigit():
            errors.append('%s would give %s to user %s, which does not exist on this host; fix expected.%s or the option '
                          'that names %s' % (item['id'], item['target'], owner, item['id'], owner))
        if group not in groups and not str(group).isdigit():
            errors.append('%s would give %s to group %s, which does not exist on this host; fix expected.%s'
                          % (item['id'], item['target'], group, item['id']))
    return errors


def predict_state(state: dict, cf_texts: dict, lookup_account, lstat, extra_paths=()) -> dict:
    """The state once the .cf texts of ``cf_texts`` (config -> new text) are installed.

    The settings, layout and accounts follow the new configuration; ``lookup_account(token)`` and
    ``lstat(path, follow)`` read what the new layout names that the old one did not, and ``extra_paths``.
    """
    new = copy.deepcopy(state)
    for role, text in cf_texts.items():
        parsed = parse_cf(text)
        new['configs'][role] = dict(state['configs'][role], error=None, settings=settings(parsed), maps=parsed['maps'],
                                    values=parsed['occurrences'])
    # The groups the configuration does not name (the programs run from aliases) stay as read.
    new['layout'] = dict(state['layout'], **layout(new['configs'], (state.get('binary') or {}).get('resolved'),
                                                   state['layout'].get('mc') or []))
    for token in account_tokens(new['configs']):
        if token not in new['accounts']:
            new['accounts'][token] = lookup_account(token)
    for group, paths in new['layout'].items():
        flat = [p for item in paths for p in item['paths']] if group == 'maps' else paths
        for path in flat:
            if path not in new['paths']:
                new['paths'][path] = lstat(path, group in FOLLOWED_GROUPS + ('maps',))
    for directory in new['layout']['queue_mta'] + new['layout']['queue_msp']:
        new['queue_files'].setdefault(directory, {'files': [], 'dirs': [], 'others': [], 'error': None})
    for path in extra_paths:
        if path not in new['paths']:
            new['paths'][path] = lstat(path, False)
    return new


# --- paths, modes and statoverrides -----------------------------------------------------------------


def _target_paths(state: dict, targets: list) -> list:
    """The paths of the layout groups ``targets``, once each."""
    paths = []
    for group in targets:
        for path in state.get('layout', {}).get(group) or []:
            if path not in paths:
                paths.append(path)
    return paths


class _View:
    """The attributes of paths and statoverride entries as the planned steps leave them."""

    def __init__(self, state: dict):
        self.state = state
        self.paths = {}
        self.pins = {entry['path']: pin_text(entry)
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
            yield from listing.get('dirs') or []
        for item in self.state.get('setid_files') or []:
            yield dict(item, exists=True, error=None, type='file', link=None, target=None)


def _judged(entry: dict, follow: bool) -> dict | None:
    """The entry whose attributes a fix changes: the entry itself, or a followed link's target."""
    if entry.get('type') == 'link':
        return entry.get('target') if follow else None
    return entry


def _want(entry: dict, spec: dict, owners: list, prefer_owner: str | None) -> dict:
    """Owner, group and mode that satisfy ``spec``, changing as little as possible of ``entry``. ``prefer_owner`` (the
    RunAsUser the MTA is given) takes what root owns, never what another allowed user owns (the submission program's
    statistics stay smmsp's)."""
    owner = entry['owner']
    if prefer_owner and prefer_owner in owners and (owner == 'root' or owner not in owners):
        owner = prefer_owner
    elif owner not in owners and owners:
        owner = owners[0]
    group = entry['group']
    if spec.get('group') is not None and group not in spec['group'] and spec['group']:
        group = spec['group'][0]
    keep = _octal(spec['mode']) | _octal(spec.get('ignore'))  # bits another control judges are left as they are
    mode = (_octal(entry['mode']) & keep) | _octal(spec.get('require'))
    return {'owner': owner, 'group': group, 'mode': '%04o' % mode}


def _path_step(view: _View, control_id: str, phase: str, path: str, follow: bool, want: dict, why: str) -> dict | None:
    """A path step from the current planned attributes to ``want``; None when nothing changes.

    ``set`` holds only the attributes the step changes: it leaves the others as it finds them, so
    that steps on one path in different phases never undo each other.
    """
    entry = view.entry(path)
    judged = _judged(entry, follow)
    before = {key: judged[key] for key in ('owner', 'group', 'mode')}
    if before == want:
        return None
    judged.update(want)
    return step(control_id, 'path', phase, path, before, dict(want), why, follow=follow,
                resolved=judged['path'] if judged is not entry else None,
                set={key: value for key, value in want.items() if value != before[key]})


def _runas(state: dict):
    """(user, group) of the MTA's RunAsUser as account names; (None, None) when unset."""
    mta = (state.get('configs', {}).get('mta') or {}).get('settings') or {}
    user, group = run_as_parts(mta.get('RunAsUser'))
    found = (state.get('accounts') or {}).get(user) if user else None
    if found:
        return found['name'], group
    return user, group


def _path_steps(view: _View, control_id: str, action: dict, phase: str) -> list:
    """Steps of a ``path_attributes`` fix: each path the check reads that fails its specification, judged as
    the check judges it (a link by its target only where the check follows it)."""
    spec = action['expected']
    follow = action['follow']
    runas_user = _runas(view.state)[0]
    found = []
    if action['targets'] == ['maps']:
        items = [(path, dict(spec, group=None, missing='pass',
                             mode=spec['private_mode'] if item['name'] in spec['private'] else spec['mode']))
                 for item in view.state.get('layout', {}).get('maps') or [] for path in item['paths']]
    else:
        items = [(path, spec) for path in _target_paths(view.state, action['targets'])]
    roles = {path: (action.get('owner_role') or {}).get(group, 'mta') for group in reversed(action['targets'])
             for path in view.state.get('layout', {}).get(group) or [] if isinstance(path, str)}
    for path, item_spec in items:
        entry = view.entry(path)
        role = roles.get(path, 'mta')
        owners = owner_names(view.state, item_spec['owner'], role)
        status, problems = judge_path(entry, item_spec, owners, follow_links=follow)
        if status == 'pass':
            continue
        if status == 'error':
            found.append(refuse(control_id, path, '; '.join(problems) or '%s cannot be read' % path))
            continue
        if not entry.get('exists'):
            found.append(refuse(control_id, path, '%s is absent: create it by hand (or reinstall the package)' % path))
            continue
        if entry.get('type') == 'link' and not follow:
            found.append(refuse(control_id, path, '%s is a symbolic link (to %s); not followed: replace it by the real file'
                                % (path, entry.get('link'))))
            continue
        judged = _judged(entry, follow)
        if judged is None or not judged.get('exists'):
            found.append(refuse(control_id, path, '%s: its link target is absent' % path))
            continue
        if action.get('others_dirs') == 'refuse' and judged.get('type') == 'dir' and judged['owner'] not in ('root', 0):
            found.append(refuse(control_id, path, '%s belongs to %s: not given to root here; move what runs from it to a '
                                'root-owned directory' % (judged['path'], judged['owner'])))
            continue
        home = os.path.dirname((view.state.get('configs', {}).get('mta') or {}).get('path') or CONFIGS['mta'])
        own = platform((view.state.get('os') or {}).get('family'))['own_files']
        if action.get('outside_config_dir') == 'refuse' and not judged['path'].startswith(home.rstrip('/') + '/') \
                and judged['path'] not in own:
            found.append(refuse(control_id, path, '%s is outside %s and may serve other programs too: %s; not changed here, '
                                'fix it by hand' % (judged['path'], home, '; '.join(problems))))
            continue
        prefer = runas_user if role == 'mta' and set(RUNAS_OWNERS) & set(item_spec['owner']) else None
        item = _path_step(view, control_id, phase, path, follow, _want(judged, item_spec, owners, prefer), '; '.join(problems))
        if item:
            found.append(item)
    return found


def _pin(view: _View, control_id: str, path: str, wanted: str, why: str) -> dict | None:
    """A statoverride step pinning ``path`` to 'owner group mode'; None when it already is."""
    current = view.pins.get(path)
    owner, group, mode = wanted.split()
    wanted = '%s %s %04o' % (owner, group, _octal(mode))
    if current is not None and current.split()[:2] == wanted.split()[:2] and _octal(current.split()[2]) == _octal(mode):
        return None
    view.pins[path] = wanted
    return step(control_id, 'statoverride', 'pins', path, current, wanted, why,
                remove=path in view.pins_before or current is not None)


def _clear_bits_steps(view: _View, control_id: str, action: dict, expected: dict, options: dict, pinned_elsewhere=()) -> list:
    """Steps of a ``clear_mode_bits`` fix; ``pinned_elsewhere`` are paths a statoverride control pins itself."""
    bits = _octal(action['bits'])
    if action['targets'] == ['setuid_root_files']:
        allowed = expected.get('allowed') or []
        entries = [item for item in setuid_root_files(view.state) if item['path'] not in allowed]
    elif action['targets'] == ['queue_files']:
        entries = [item for listing in sorted((view.state.get('queue_files') or {}).items())
                   for item in listing[1].get('files') or []]
    else:
        raise PlanError('clear_mode_bits of %s reads %s, which the hardening does not know'
                        % (control_id, ', '.join(action['targets'])))
    found = []
    for item in entries:
        entry = view.entry(item['path'])
        if not entry.get('exists') or entry.get('type') != 'file' or not _octal(entry['mode']) & bits:
            continue
        want = {'owner': entry['owner'], 'group': entry['group'], 'mode': '%04o' % (_octal(entry['mode']) & ~bits)}
        planned = _path_step(view, control_id, 'paths', item['path'], False, want,
                             'mode %s has %04o' % (entry['mode'], _octal(entry['mode']) & bits))
        if planned is None:
            continue
        found.append(planned)
        if not action.get('statoverride') or not options.get('dpkg') or item['path'] in pinned_elsewhere:
            continue
        pinned = view.pins.get(item['path'])
        if pinned is not None:
            # The mode the plan leaves the file at: a set-group-id bit a step before this one gives is pinned with it.
            owner, group, _mode = pinned.split()
            pin = _pin(view, control_id, item['path'], '%s %s %s' % (owner, group, want['mode']),
                       'the statoverride %s would bring %04o back at the next upgrade' % (pinned, bits))
        elif options.get('statoverride'):
            pin = _pin(view, control_id, item['path'], '%s %s %s' % (want['owner'], want['group'], want['mode']),
                       'a reinstall of the package would bring %04o back' % bits)
        else:
            pin = None
        if pin:
            found.append(pin)
    return found


def _statoverride_steps(view: _View, control_id: str, action: dict, options: dict) -> list:
    """Pin each ``entries`` path (present on the host) and drop the set-user-id bit of other sendmail pins."""
    if not options.get('dpkg'):
        return [refuse(control_id, 'dpkg-statoverride', 'dpkg-statoverride is not available on this host')]
    found = []
    entries = action.get('entries') or {}
    for path, wanted in sorted(entries.items()):
        entry = view.entry(path)
        if not entry.get('exists'):
            continue
        owner, group, mode = wanted.split()
        if entry.get('type') == 'file':
            planned = _path_step(view, control_id, 'paths', path, False,
                                 {'owner': owner, 'group': group, 'mode': '%04o' % _octal(mode)}, 'pinned to %s' % wanted)
            if planned:
                found.append(planned)
        elif entry.get('type') == 'link':
            found.append(refuse(control_id, path, '%s is a symbolic link; its attributes are left to dpkg' % path))
        pin = _pin(view, control_id, path, wanted, 'expected %s' % wanted)
        if pin:
            found.append(pin)
    sendmail_files = set(view.state.get('setid_candidates') or [])
    for path, pinned in sorted(view.pins.items()):
        owner, group, mode = pinned.split()
        if path in sendmail_files and path not in entries and _octal(mode) & 0o4000:
            pin = _pin(view, control_id, path, '%s %s %04o' % (owner, group, _octal(mode) & ~0o4000), 'pinned set-user-id')
            if pin:
                found.append(pin)
    return found


def _handover(view: _View) -> list:
    """SM-RUNAS-01's own fix where RunAsUser is (or is about to be) set: what the MTA writes goes to the
    user it runs as (it could no longer read or write it): the files queued in the MTA queue (its check
    reads them), their qf/df/xf subdirectories, the statistics file. The queue itself is SM-QUEUE-01's,
    which SM-RUNAS-01 needs (the catalogue's REQUIRES): its step comes after these, so that each file is
    changed while its directory is still as the link checks found it."""
    user, group = _runas(view.state)
    if not user:
        return []
    mta = (view.state['configs'].get('mta') or {}).get('settings') or {}
    queues = list(view.state.get('layout', {}).get('queue_mta') or [])
    listings = [(view.state.get('queue_files') or {}).get(queue, {}) for queue in queues]
    paths = [item['path'] for listing in listings for item in listing.get('files') or []]
    paths.extend(item['path'] for listing in listings for item in listing.get('dirs') or [])
    paths.extend([mta['StatusFile']] if mta.get('StatusFile') else [])
    found = []
    for path in paths:
        entry = view.entry(path)
        if not entry.get('exists') or entry.get('type') not in ('dir', 'file'):
            continue
        want = {'owner': user, 'group': group or entry['group'], 'mode': entry['mode']}
        planned = _path_step(view, 'SM-RUNAS-01', 'handover', path, False, want,
                             'the MTA runs as %s and writes %s' % (user, path))
        if planned:
            found.append(planned)
    return found


def file_steps(control_ids: list, expected_by_id: dict, state: dict, options: dict | None = None,
               runas_changed: bool = False) -> list:
    """The path and statoverride steps of the failing ``control_ids``, planned on ``state`` (the state once
    the .cf steps are done), in phase order and, within a phase, in the order given, but a control another
    one's fix needs comes ahead of it; refusals among them.

    ``options``: ``statoverride`` (pin the modes of files whose set-user-id bit is dropped), ``dpkg``
    (dpkg-statoverride is there). A failing SM-RUNAS-01 hands what the MTA writes to the RunAsUser of
    ``state``, after the .cf steps; ``runas_changed`` (the .cf steps set a new RunAsUser) moves the
    owners that name the MTA's user after them too.
    """
    options = dict({'statoverride': True, 'dpkg': False}, **(options or {}))
    view = _View(state)
    control_ids = first(control_ids)
    found = _handover(view) if 'SM-RUNAS-01' in control_ids else []
    # A path a failing statoverride control pins is pinned by that control's own step, not twice.
    pinned_elsewhere = {path for control_id in control_ids for action in fix_actions(BY_ID[control_id], expected_by_id[control_id])
                        if action['kind'] == 'statoverride' and options.get('dpkg') for path in action.get('entries') or {}}
    for control_id in control_ids:
        control = BY_ID[control_id]
        expected = expected_by_id[control_id]
        for action in fix_actions(control, expected):
            kind = action['kind']
            if kind == 'path_attributes':
                after_runas = runas_changed and bool(set(RUNAS_OWNERS) & set(expected.get('owner') or []))
                found.extend(_path_steps(view, control_id, action, 'handover' if after_runas else 'paths'))
            elif kind == 'clear_mode_bits':
                found.extend(_clear_bits_steps(view, control_id, action, expected, options, pinned_elsewhere))
            elif kind == 'statoverride':
                found.extend(_statoverride_steps(view, control_id, action, options))
    return found


def manual_steps(control_ids: list) -> list:
    """A manual step for each failing control whose catalogue fix is by hand."""
    return [manual(control_id, BY_ID[control_id]['fix']) for control_id in control_ids
            if any(action['kind'] == 'manual' for action in BY_ID[control_id]['fix_data'])]


def map_steps(stale: list) -> list:
    """Steps that rebuild the stale map databases (upkeep, not a control's fix)."""
    return [step(None, 'map_rebuild', 'maps', item['database'], 'older than %s' % item['source'], 'rebuilt',
                 '%s changed after %s was built' % (item['source'], item['database']), name=item['name'],
                 source=item['source'], map_class=item['class']) for item in stale]


# --- the steps outside the configuration: one planner per fix kind ------------------------------------
# Each planner takes the plan's context (``failing``, ``expected``, ``state``, ``aliases`` (the alias edits),
# ``options``: statoverride, dpkg, rebuild_maps; on the prediction also ``predicted``, the state once the new .cf
# is in place, and ``runas_changed``) and returns (steps, notes). Those that create or remove a path are planned
# before the new .cf's state is predicted, which sees them; the others on that prediction. A new fix kind adds its
# planner here (and its carrying out to _apply_kinds): the engine loops over both lists as they are.


def _empty_file_planner(context: dict) -> tuple:
    return empty_file_steps(context['failing'], context['expected'], context['state']), []


def _smrsh_planner(context: dict) -> tuple:
    found = smrsh_remove_steps(context['failing'], context['expected'], context['state'], context['aliases'])
    return [item for item in found if item['kind'] == 'unlink'], [item for item in found if item['kind'] == 'manual']


def _path_planner(context: dict) -> tuple:
    return file_steps(context['failing'], context['expected'], context['predicted'], context['options'],
                      runas_changed=context['runas_changed']), []


def _map_planner(context: dict) -> tuple:
    """A stale database is rebuilt in the maps phase as ever; the alias edits rebuild the alias database again after them."""
    stale = context['state'].get('stale_maps') or [] if context['options'].get('rebuild_maps') else []
    return map_steps(stale) + list(context['aliases']), []


def _self_signed_planner(context: dict) -> tuple:
    return self_signed_steps(context['failing'], context['expected'], context['predicted']), []


BEFORE_PREDICTION = (_empty_file_planner, _smrsh_planner)

ON_PREDICTION = (_path_planner, _map_planner, _self_signed_planner)


def host_steps(planners: tuple, context: dict) -> tuple:
    """(steps, notes) of the ``planners`` in turn."""
    steps, notes = [], []
    for planner in planners:
        found, said = planner(context)
        steps += found
        notes += said
    return steps, notes


def ordered(steps: list) -> list:
    """The steps in phase order; a phase keeps the order it was planned in. Manual and refused steps go last."""
    rank = {phase: index for index, phase in enumerate(PHASES)}
    return sorted(steps, key=lambda item: rank.get(item['phase'], len(PHASES)))


def changed_ids(steps: list) -> list:
    """The control ids that applied steps (planned or done) belong to, sorted."""
    return sorted({control_id for item in steps if item['kind'] in APPLIED
                   for control_id in [item['id']] + list(item.get('also') or []) if control_id})
