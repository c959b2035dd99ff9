# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The hardening engine: read the host, judge it, plan once, then apply the plan (or, in check mode, return it).

``Engine.run`` is all ``sendmail_harden`` does. The plan (``_plan``) is data built once from the
host's state and the catalogue; check mode returns it after trying every step the way the real
run would (sendmail reads each new .cf, every path goes through the same link checks). A real
run applies it phase by phase, reads the host again and judges it again. ``changed`` means the
plan had steps that apply; steps the hardening cannot take are reported apart and warned about,
never counted.
"""

from __future__ import annotations

import datetime
import grp
import os
import pwd
import re
import tempfile

from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_journal as journals, _apply_kinds as kinds
from ansible_collections.mailsec.sendmail.plugins.module_utils import _plan as plan_of, _plan_requires as requires_of
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_steps import queue_hazards
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import expected_values, read_host, selection_errors
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_cfbuild import (
    BuildError, check, check_installed, commit, discard_stand_in, option_changes, prepare, queue_stand_in, read_pair, validate_cf,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import option_values, set_mailer, set_option, set_repeated
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, CONTROLS, select
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import evaluate, queue_own_dirs, waiver_errors
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import mta_running, running_older_than, service_name
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan_listen import built_problems, loopback_value
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import McError, daemon_values, remove_feature, set_daemons, set_define, set_feature
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import account, ask_binary, lstat_entry, read_os, stale_maps
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import places, platform
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge_package import update_undoes

SENDMAIL_DIRS = list(places('program_dirs'))
# Layout groups sendmail's file-safety checks read when it validates a .cf.
SAFETY_GROUPS = ('config_dirs', 'cf_mta', 'cf_msp', 'mc', 'aliases')
# What a run was asked to do: a run killed part-way is completed by a run asked the same, else rolled back first.
SELECTION = ('include', 'exclude', 'expected', 'waivers', 'host_name', 'cf_source', 'statoverride', 'run_as_user_force',
             'rebuild_maps', 'binary')
STALE = 'the running sendmail started before sendmail.cf was last written: restart it to use it'
OWED = 'the restart an earlier run needed did not finish: sendmail ran before it and is stopped: start it'
OWED_RUNNING = 'an earlier run did not finish its restart of sendmail: restart it'


class EngineError(Exception):
    """The run cannot go on; ``msg`` is one sentence, ``result`` what is known so far."""

    def __init__(self, msg: str, result: dict | None = None):
        super().__init__(msg)
        self.msg = msg
        self.result = result or {}


class ModuleIO:
    """What the engine needs of the module: commands, programs, files, warnings, check mode."""

    def __init__(self, module, run):
        self.module = module
        self.run = run
        self.check_mode = module.check_mode
        self.tmpdir = module.tmpdir

    def bin(self, name: str, dirs=()):
        return self.module.get_bin_path(name, opt_dirs=list(dirs))

    def write_text(self, path: str, text: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix='sendmail_harden.', dir=self.tmpdir)
        with os.fdopen(fd, 'w', encoding='utf-8', errors='surrogateescape') as handle:
            handle.write(text)
        self.module.atomic_move(tmp, path)

    def backup(self, path: str) -> str:
        return self.module.backup_local(path)

    def warn(self, text: str) -> None:
        self.module.warn(text)


def undoable(entry: dict) -> bool:
    """Whether undo reverts a journal's entry: a step done that changed something, or a killed run's step that began
    (it may have changed something; each kind's undo tolerates a step that did not)."""
    if entry['state'] == 'done':
        return bool(entry.get('changed'))
    return entry['state'] == 'begun' and bool(entry.get('inherited'))


def ipv6_loopback() -> bool:
    """Whether the host has ::1 (a daemon moved to loopback listens there too only where it has)."""
    try:
        with open('/proc/net/if_inet6', encoding='ascii') as handle:
            return any(line.split()[0] == '0' * 31 + '1' for line in handle if line.split())
    except OSError:
        return False


def host_accounts():
    """(user name -> primary group name, group names) of the host."""
    groups = {entry.gr_name for entry in grp.getgrall()}
    by_gid = {entry.gr_gid: entry.gr_name for entry in grp.getgrall()}
    users = {entry.pw_name: by_gid.get(entry.pw_gid, str(entry.pw_gid)) for entry in pwd.getpwall()}
    return users, groups


def _diff_mc(change: dict, ids: list) -> dict:
    label = '%s (%s)' % (change['mc'], ', '.join(dict.fromkeys(ids)))
    return {'before_header': label, 'after_header': label, 'before': change['mc_text'], 'after': change['mc_new']}


def _mailer_lines(text: str) -> dict:
    return {name: 'M%s, P=%s, F=%s, A=%s\n' % (name, item['path'], item['flags'], item['argv'])
            for name, item in parse_cf(text or '')['mailers'].items()}


def _diff_cf(change: dict) -> dict:
    """The options a new .cf changes, and its mailers that changed (smrsh as the prog mailer)."""
    mailers = {'before': _mailer_lines(change['cf_text']), 'after': _mailer_lines(change['cf_new'])}
    changed = sorted(name for name in set(mailers['before']) | set(mailers['after'])
                     if mailers['before'].get(name) != mailers['after'].get(name))

    def lines(side):
        return ''.join('O %s=%s\n' % (name, value) for name in sorted(change['cf_changes'])
                       for value in change['cf_changes'][name][side]) + ''.join(mailers[side].get(name, '') for name in changed)
    label = '%s (options, %s)' % (change['cf'], 'rebuilt from the .mc' if change['source'] == 'mc' else 'edited in place')
    return {'before_header': label, 'after_header': label, 'before': lines('before'), 'after': lines('after')}


class Plan:
    """What the plan stage decided, as data: the ``steps``; the prepared configuration ``changes`` (config -> the
    change of _apply_cfbuild.prepare, new texts included); the fixes ``taken`` too (REQUIRES); the deliveries a new
    RunAsUser ``breaks``; the MTA ``queues`` the handover gives to a new RunAsUser after the .cf (path -> owner,
    group and mode), which a new .cf is read with."""

    def __init__(self, steps: list, changes: dict, taken: list, breaks: list, queues: dict):
        self.steps = steps
        self.changes = changes
        self.taken = taken
        self.breaks = breaks
        self.queues = queues


class Engine:
    """One host's hardening: ``run()`` returns the module's result or raises EngineError."""

    def __init__(self, io, params: dict):
        self.io = io
        self.params = params
        self.today = datetime.date.today()
        self.controls = []  # the selected controls and those their fixes may need: what is read and judged
        self.selected = []
        self.lacking = {}
        self.family = None
        self.kernel = None
        self.stale = False
        self.backups = []

    # --- read and judge ------------------------------------------------------------------------------

    def read(self, first: dict | None = None) -> dict:
        """The host's state; after the first read, the kernel probe's answer is carried over."""
        m4 = self.io.bin('m4')
        state = read_host(self.io.run, self.controls, self.params['binary'], self.family, self.params['expected'],
                          probe_kernel=first is None, m4=m4, cf_sources=True, openssl=self.io.bin('openssl'),
                          rpm=self.io.bin('rpm'))[1]
        if first is not None:
            state['kernel'], state['method_works'] = first['kernel'], first['method_works']
        # What the plan needs of the host besides sendmail's own: read here, so that judging and planning read nothing.
        state['host_accounts'] = host_accounts()
        state['ipv6_loopback'] = ipv6_loopback()
        state['stale_maps'] = stale_maps(state) if state.get('installed') else []
        return state

    def judge(self, state: dict, expected: dict) -> list:
        return evaluate(self.controls, expected, state, self.params['waivers'], self.params['host_name'], today=self.today)

    # --- plan ------------------------------------------------------------------------------------------

    def _source(self, state: dict, config: str) -> str:
        return plan_of.choose_source(self.params['cf_source'], state['cf_sources'][config])

    def _config_change(self, state: dict, config: str, options: dict, defines: dict, features=None, listen=None,
                       mailers=()) -> dict:
        """The prepared change of one config; ``listen`` is its ``cf_listen`` step: DAEMON_OPTIONS moved to
        loopback in the .mc (in a rebuild, the daemons m4 adds by default written out too), and the
        DaemonPortOptions lines set where the .cf is edited in place."""
        found = state['cf_sources'][config]
        source = self._source(state, config)
        mc = found['mc'] if os.path.lexists(found['mc']) else None
        pair = read_pair(found['cf'], mc)
        mc_new = pair['mc_text']
        # An added FEATURE that says how, where the .cf is edited in place: its mailer line set as the feature builds it.
        cf_edits = [lambda text, spec=spec: set_mailer(text, spec['mailer'], spec['path'], spec['argv']) for spec in mailers]
        try:
            for name, value in defines.items():
                mc_new = set_define(mc_new, name, value) if mc_new is not None else None
            for name, change in dict(features or {}).items():
                edit = set_feature if change == 'add' else remove_feature
                mc_new = edit(mc_new, name) if mc_new is not None else None
            if listen is not None:
                if mc_new is not None:
                    given = {value.strip() for value in daemon_values(mc_new)}
                    defaults = [value for value in listen['before'] if value.strip() not in given] if source == 'mc' else []
                    mc_new = set_daemons(mc_new, loopback_value, defaults)
                cf_edits.append(lambda text: set_repeated(text, 'DaemonPortOptions', listen['after']))
        except McError as exc:
            raise plan_of.PlanError('cannot change %s: %s' % (mc, exc)) from exc
        return prepare(pair, source, mc_new, options, self.io.run, self.io.bin('m4'), cf_edits)

    @staticmethod
    def _listen_problems(state: dict, change: dict) -> list:
        """What is wrong with the daemons of a new .cf that moves them to loopback (read back from the .cf it
        builds: a DAEMON_OPTIONS the .mc makes where its scan does not see it would bind a port twice)."""
        msp = (state['configs'].get('msp') or {}).get('settings')
        return built_problems(option_values(change['cf_new'], 'DaemonPortOptions'), state['ipv6_loopback'],
                              (msp or {}).get('MTAHost'), bool(msp))

    def _rebuildable(self, state: dict, steps: list) -> tuple:
        """The ``mc_feature`` steps whose .cf is rebuilt from its .mc or, for a feature that says how (smrsh: the
        prog mailer's P= and A=), edited in place; manual notes for the others: a FEATURE leaves no option to edit."""
        kept, notes = [], []
        for item in steps:
            if self._source(state, item['config']) == 'mc':
                kept.append(item)
                continue
            in_place = item.get('in_place') if item.get('add') else None
            program = next((path for path in (in_place or {}).get('paths', ()) if os.path.isfile(path) and os.access(path, os.X_OK)), None)
            if program:
                kept.append(dict(item, in_place=dict(in_place, path=program)))
                continue
            found = state['cf_sources'][item['config']]
            why = found.get('reason') or 'it has lines its .mc does not build (cf_source %s)' % self.params['cf_source']
            if in_place:
                why += ', and smrsh is none of %s' % ', '.join(in_place['paths'])
            notes.append(plan_of.manual(item['id'], "FEATURE(`%s') %s %s: that means rebuilding %s from it, and %s"
                                        % (item['feature'], 'not added to' if item.get('add') else 'left in', item['mc'],
                                           item['target'], why.rstrip('.')), item['target']))
        return kept, notes

    def _safe(self, steps: list) -> list:
        """The steps with those a real run would refuse (links, swapped files) turned into ``refuse`` steps.

        A file is created in a directory whose owner and mode a path step before it fixes: it is judged as that
        step leaves the directory, as the real run creates it after that step."""
        planned = {item['target']: item['after'] for item in steps if item['kind'] == 'path'}
        checked = []
        for item in steps:
            reason = kinds.KINDS[item['kind']]['probe'](item, planned) if item['kind'] in kinds.KINDS else None
            checked.append(plan_of.refuse(item['id'], item['target'], reason) if reason else item)
        return checked

    def plan(self, state: dict, findings: list, expected: dict) -> Plan:
        """The steps that fix the failing controls of ``findings``, with what their fixes need of other controls'
        (the catalogue's REQUIRES): a needed fix is taken too and said, or, where the user left its control out,
        the steps that need it are held back; then the steps the hardening does not take."""
        ids = plan_of.failing_ids(findings)
        lacking, taken, held = dict(self.lacking), [], []
        for _round in range(len(BY_ID)):  # each round takes a control in or leaves one out for good: it ends
            steps, predicted, changes, breaks = self._plan_ids(state, ids, expected)
            applied = [item for item in steps if item['kind'] in plan_of.APPLIED]
            more, holds = requires_of.settle(ids, applied, state, requires_of.after_steps(predicted, applied), expected, lacking)
            whole = [item for item in holds if item['whole']]
            if not more and not whole:
                break
            for item in whole:
                lacking[item['id']] = '%s is held back itself' % item['id']
            taken += more
            held += whole
            chosen = set(ids + [item['id'] for item in more]) - {item['id'] for item in held}
            ids = [control['id'] for control in CONTROLS if control['id'] in chosen]
        taken = [item for item in taken if item['id'] in ids]
        # The steps that need a fix the user left out wait; the rest of their control is done.
        waiting = [id(item) for hold in holds for item in hold['steps']]
        waived = [plan_of.waived(item) for item in findings if item['status'] == 'waived']
        kept = [item for item in steps if id(item) not in waiting]
        # The MTA queues the handover gives to a new RunAsUser after the .cf: the .cf is read with a stand-in.
        mta_queues = {path.rstrip('/') for path in state['layout'].get('queue_mta') or []}
        queues = {item['target'].rstrip('/'): item['after'] for item in kept
                  if item['kind'] == 'path' and item['phase'] == 'handover' and item['target'].rstrip('/') in mta_queues}
        held_steps = [plan_of.step(item['id'], 'held', None, ', '.join(item['paths']), None, None, item['why']) for item in held + holds]
        return Plan(kept + held_steps + waived, changes, taken, breaks, queues)

    def _config_changes(self, state: dict, cf_steps: list, features: dict, listens: dict, mailers: dict) -> dict:
        """The prepared change of each config the ``cf_option`` steps, features, listen steps and mailers touch."""
        options, defines = plan_of.options_by_config(cf_steps), plan_of.options_by_config(cf_steps, 'define')
        try:
            return {config: self._config_change(state, config, options.get(config, {}), defines.get(config, {}),
                                                features.get(config, {}), listens.get(config), mailers.get(config, ()))
                    for config in sorted(set(options) | set(features) | set(listens))}
        except BuildError as exc:
            raise plan_of.PlanError(str(exc).rstrip('.').replace('; nothing was changed', '')) from exc

    def _plan_ids(self, state: dict, ids: list, expected: dict) -> tuple:
        """(steps, the state once the .cf steps are done, the configuration changes, the deliveries a new RunAsUser
        breaks) of a plan that fixes the controls ``ids``."""
        aliases = plan_of.alias_steps(ids, expected, state)
        impact = plan_of.without_disabled(state.get('runas_impact'), aliases)
        failing, held = plan_of.runas_gate(ids, impact, self.params['run_as_user_force'])
        by_hand = plan_of.left_by_hand(failing, aliases, state.get('runas_impact'), impact)
        cf_steps, notes = plan_of.option_steps(failing, expected, state, self.params['cf_source'])
        mc_steps, mc_notes = plan_of.feature_steps(failing, expected, state, aliases)
        mc_steps, unbuilt = self._rebuildable(state, mc_steps)
        listen_steps, listen_notes = plan_of.listen_steps(failing, expected, state)
        notes += mc_notes + unbuilt + listen_notes
        options, defines = plan_of.options_by_config(cf_steps), plan_of.options_by_config(cf_steps, 'define')
        features = plan_of.options_by_config(mc_steps, 'feature')
        listens = {item['config']: item for item in listen_steps}
        mailers = {}
        for item in mc_steps:
            if (item.get('in_place') or {}).get('path'):  # set by _rebuildable only where the .cf is edited in place
                mailers.setdefault(item['config'], []).append(item['in_place'])
        changes = self._config_changes(state, cf_steps, features, listens, mailers)
        for config, item in list(listens.items()):
            why = self._listen_problems(state, changes[config])
            if why:
                notes.append(plan_of.manual(item['id'], 'DaemonPortOptions left as they are: the new %s would not do: %s'
                                            % (item['target'], '; '.join(why)), item['target']))
                listen_steps.remove(item)
                del listens[config]
                changes[config] = self._config_change(state, config, options.get(config, {}), defines.get(config, {}),
                                                      features.get(config, {}), None, mailers.get(config, ()))
        new_texts = {config: change['cf_new'] for config, change in changes.items() if change['cf_changed']}
        dpkg = self.io.bin('dpkg-statoverride') if self.family == 'Debian' else None
        context = {'failing': failing, 'expected': expected, 'state': state, 'aliases': aliases,
                   'options': {'statoverride': self.params['statoverride'], 'dpkg': bool(dpkg), 'rebuild_maps': self.params['rebuild_maps']}}
        created, said = plan_of.host_steps(plan_of.BEFORE_PREDICTION, context)
        extra = [item['target'] for item in created]
        predicted = plan_of.predict_state(state, new_texts, account, lstat_entry, extra) if new_texts else state
        runas_changed = any(item['option'] == 'RunAsUser' and item['config'] == 'mta' for item in cf_steps) and 'mta' in new_texts
        files, more = plan_of.host_steps(plan_of.ON_PREDICTION, dict(context, predicted=predicted, runas_changed=runas_changed))
        notes += said + more
        users, groups = state['host_accounts']
        errors = plan_of.account_errors(cf_steps, users, groups) + plan_of.name_errors(files, users, groups)
        if errors:
            raise plan_of.PlanError('; '.join(errors))
        hazards = []
        touches, judge = plan_of.queue_entries([control['id'] for control in self.selected], ids)
        if touches:
            queues = (predicted['layout'].get('queue_mta') or []) + (predicted['layout'].get('queue_msp') or [])
            hazards = [plan_of.refuse(judge, item['path'], item['reason']) for item in queue_hazards(queues, queue_own_dirs(predicted))]
        made = self._safe(files + created)
        # A pair a real run would refuse to make is not named either: the control's options are left as they are.
        unmade = {new['id'] for old, new in zip(files + created, made) if old['kind'] == 'self_signed' and new['kind'] == 'refuse'}
        if unmade:
            cf_steps = [item for item in cf_steps if item['id'] not in unmade]
            changes = self._config_changes(state, cf_steps, features, listens, mailers)
        applied = plan_of.ordered(made + cf_steps + mc_steps + listen_steps)
        return (applied + held + plan_of.manual_steps(by_hand) + notes + hazards, predicted, changes,
                plan_of.runas_breaks(cf_steps, impact))

    # --- check and apply ---------------------------------------------------------------------------

    @staticmethod
    def _fixes_a_named_path(steps: list, message: str) -> bool:
        """Whether a step before the config fixes a path sendmail's complaint names ('/etc/mail', or the queue it cannot
        enter: chdir(/var/spool/mqueue/)), or a directory above it."""
        named = re.findall(r"'(/[^']*)'", message) + re.findall(r"chdir\((/[^)]*)\)", message)
        targets = [item['target'] for item in steps if item['kind'] == 'path' and item['phase'] == 'paths']
        return any(path == target or path.startswith(target.rstrip('/') + '/') for path in named for target in targets)

    def _check(self, change: dict, sendmail: str, queues: dict, text: str | None = None) -> None:
        """sendmail reads the change's new .cf (or ``text``) from a private candidate, as the host will be once the
        plan is carried out: a queue the handover gives to a new RunAsUser after the .cf (``queues``) is read as given."""
        standin, parent = queue_stand_in(change['cf_new'] if text is None else text, queues)
        try:
            check(change, self.io.run, sendmail, self.io.tmpdir, text=standin if standin is not None else text)
        finally:
            discard_stand_in(parent)

    def _validate_candidate(self, change: dict, sendmail: str, queues: dict):
        """What ``commit`` has sendmail read before the rename: the candidate itself, or where the queue is handed
        over after it, the same text with the stand-in queue."""
        def validate(candidate: str) -> None:
            with open(candidate, encoding='utf-8', errors='surrogateescape') as handle:
                text = handle.read()
            if (parse_cf(text)['options'].get('QueueDirectory') or '').rstrip('/') in queues:
                self._check(change, sendmail, queues, text)
            else:
                validate_cf(candidate, change['cf'], self.io.run, sendmail=sendmail)
        return validate

    def check_installed(self, steps: list, state: dict, sendmail: str) -> None:
        """Before the first write, check mode or not: sendmail reads each installed .cf as it stands. A complaint
        about a path a step before the config fixes (a group-writable /etc/mail) is left to those steps."""
        for config in sorted(state['configs']):
            path = state['configs'][config].get('path')
            if not path or not os.path.isfile(path):
                continue
            why = check_installed(path, self.io.run, sendmail)
            if why and not self._fixes_a_named_path(steps, why):
                raise BuildError('%s: make sendmail accept it first (sendmail -C %s -bv root); nothing was changed.' % (why, path))

    def check_configs(self, plan: Plan, steps: list, state: dict, sendmail: str) -> None:
        """Before the first write, check mode or not: sendmail reads each new .cf from a private candidate.

        The path fixes before it are not made in check mode; where sendmail rejects the candidate over a
        path one of them fixes (a group-writable /etc/mail), the candidate is read again with the
        DontBlameSendmail now in force (the real run validates the strict file after those fixes).
        """
        for config, change in plan.changes.items():
            try:
                self._check(change, sendmail, plan.queues)
            except BuildError as exc:
                current = (state['configs'][config].get('values') or {}).get('DontBlameSendmail')
                if not current or not self._fixes_a_named_path(steps, str(exc)):
                    raise
                self._check(change, sendmail, plan.queues, text=set_option(change['cf_new'], 'DontBlameSendmail', current[-1]))
                change['checked'] = 'with the DontBlameSendmail now in force, until the path fixes before it are made'

    @staticmethod
    def sequence(plan: Plan, steps: list) -> list:
        """The steps a real run takes, in the order it takes them: phase by phase, each configuration as one ``config``
        step that carries its change (new texts included) and installs its .cf and .mc as a whole."""
        ordered = []
        for phase in plan_of.PHASES:
            ordered += [item for item in steps if item['phase'] == phase and item['kind'] not in plan_of.CONFIG_KINDS]
            if phase == 'config':
                ordered += [plan_of.step(None, 'config', 'config', change['cf'], None, change['cf_new'], 'the new %s' % change['cf'],
                                         config=config, mc=change['mc'] if change['mc_changed'] else None,
                                         mc_after=change['mc_new'] if change['mc_changed'] else None, change=change)
                            for config, change in plan.changes.items() if change['cf_changed'] or change['mc_changed']]
        return ordered

    def _install_config(self, item: dict, sendmail: str, queues: dict) -> dict:
        """Install one configuration (sendmail reads it first, see _apply_cfbuild.commit); EngineError when it cannot be."""
        change = item['change']
        try:
            self.backups.extend(commit(change, self.io.run, sendmail, self.io.write_text,
                                       backup=self.io.backup if self.params['backup'] else None,
                                       validate=self._validate_candidate(change, sendmail, queues)))
        except Exception as exc:  # noqa: BLE001 - whatever stopped the install, the run is rolled back
            reason = str(exc) if isinstance(exc, BuildError) else 'could not install a new %s: %s' % (
                change['cf'], getattr(exc, 'strerror', None) or exc)
            raise EngineError(reason.rstrip('.').replace('; nothing was changed', '')) from exc
        return {'changed': True, 'refused': None, 'error': None}

    def apply(self, plan: Plan, steps: list, sendmail: str, journal, offset: int = 0) -> tuple:
        """Carry out the plan phase by phase, each step marked in the journal before and after it; returns (done steps
        with their outcome, failures). A step that cannot be made raises EngineError with what was done so far."""
        done, failures = [], []
        context = kinds.Context(self.io.run, sendmail, self.io.bin('dpkg-statoverride'), self.io.bin('makemap', SENDMAIL_DIRS),
                                self.io.write_text, apply_config=lambda item: self._install_config(item, sendmail, plan.queues))
        ordered = self.sequence(plan, steps)
        phases = [item['phase'] for item in ordered]
        for number, item in enumerate(ordered):
            journal.mark(offset + number, 'begun')
            try:
                outcome = kinds.KINDS[item['kind']]['apply'](item, context)
            except EngineError as exc:
                exc.result = {'done': done}
                raise
            journal.mark(offset + number, 'done', changed=bool(outcome.get('changed')))
            if item['kind'] == 'config':
                change = item['change']
                done += [dict(step, changed=change['cf_changed'] or change['mc_changed'], refused=None, error=None)
                         for step in steps if step['kind'] in plan_of.CONFIG_KINDS and step['config'] == item['config']]
            else:
                done.append(dict(item, **outcome))
            if outcome.get('error'):
                failures.append(outcome['error'])
            if number + 1 == len(ordered) or phases[number + 1] != item['phase']:
                journal.phase_done(item['phase'])
        return done, failures

    def record(self, plan: Plan, steps: list) -> tuple:
        """What undoing each step of the run needs, read before its first write: (entries, copies). A configuration's
        step is kept without its change (the journal keeps copies of the files instead)."""
        entries, copies = [], {}
        for item in self.sequence(plan, steps):
            record, kept = kinds.KINDS[item['kind']]['record'](item)
            entries.append({'step': {key: value for key, value in item.items() if key != 'change'}, 'record': record})
            copies.update(kept)
        return entries, copies

    # --- the run ----------------------------------------------------------------------------------

    def _context(self, sendmail: str | None) -> kinds.Context:
        return kinds.Context(self.io.run, sendmail or self.io.bin('sendmail', SENDMAIL_DIRS) or self.params['binary'],
                             self.io.bin('dpkg-statoverride'), self.io.bin('makemap', SENDMAIL_DIRS), self.io.write_text)

    def roll_back(self, journal: journals.Journal, sendmail: str, restore: bool = True) -> tuple:
        """Undo the steps of the journal's run that began and may have changed something, in reverse order; with
        ``restore``, the journal it replaced is put back (the last run that changed something stays the one to undo).
        Returns (steps undone, errors)."""
        entries = [entry for entry in journal.data['steps']
                   if entry['state'] == 'begun' or (entry['state'] == 'done' and entry.get('changed') is not False)]
        undone, errors = kinds.undo_all(entries, self._context(sendmail), journal.data['copies'])
        journal.finish('rolled_back', undo_errors=errors)
        if restore:
            journal.restore_previous()
        return [entry['step'] for entry in undone], errors

    def selection(self) -> dict:
        """What a run was asked to do: a run killed part-way is completed only by a run asked the same."""
        return {key: self.params[key] for key in SELECTION}

    def recover(self, sendmail: str | None) -> dict | None:
        """An earlier run that did not end (killed, the host down).

        Asked the same, this run completes it: each phase leaves a host that works (see _plan), so it plans from the
        host as it stands and finishes the work; the killed run's steps stay in the journal ahead of this run's, so
        that an undo reverts both. Asked something else (other tags, other values), this run could leave the killed
        run's work half done (a RunAsUser without its queue): the killed run is rolled back first (in check mode, said)."""
        found = journals.load(self.params['journal_dir'])
        if not journals.unfinished(found):
            return None
        started = [entry for entry in found['steps'] if entry['state'] in ('begun', 'done')]
        summary = {'run': found['run'], 'started': found['started'], 'steps': len(started), 'phases_done': found['phases_done']}
        if found.get('selection') == self.selection():
            kept = {path for entry in started for path in (entry['step']['target'], entry['step'].get('mc'))}
            return dict(summary, how='completed', entries=started,
                        copies={path: saved for path, saved in found['copies'].items() if path in kept})
        if self.io.check_mode:
            return dict(summary, how='to roll back', entries=[], copies={})
        journal = journals.Journal(self.params['journal_dir'])
        journal.data = found
        undone, errors = self.roll_back(journal, sendmail, restore=False)
        return dict(summary, how='rolled back', entries=[], copies={}, undone=len(undone), errors=errors)

    def run(self) -> dict:
        params = self.params
        errors = selection_errors(params['include'], params['exclude'], params['expected']) + waiver_errors(params['waivers'], BY_ID)
        if errors:
            raise EngineError('; '.join(errors) + '.')
        if params['undo']:
            return self.undo()
        self.selected = select(params['include'], params['exclude'])
        chosen = [control['id'] for control in self.selected]
        # What the selected fixes may need is read and judged too, and taken only where the plan needs it.
        self.controls = [control for control in CONTROLS if control['id'] in set(chosen + requires_of.closure(chosen))]
        self.family = params['os_family'] or read_os()['family']
        self.lacking = requires_of.unavailable(params['exclude'], params['waivers'], params['host_name'], self.today, self.family)
        try:
            recovered = self.recover(params['binary'] if os.path.exists(params['binary']) else None)
        except journals.JournalError as exc:
            raise EngineError(str(exc)) from exc
        state = self.read()
        located = state.get('locate') or {}
        # The program the host was read through: the one asked for, or where the search found sendmail instead.
        sendmail = located.get('program') or (
            params['binary'] if os.path.exists(params['binary']) else self.io.bin('sendmail', SENDMAIL_DIRS))
        # Whether the MTA runs now, and whether the administrator had it running: a daemon stopped by hand stays
        # stopped, one a killed run or an unfinished restart left stopped is started again.
        running = mta_running(state.get('pid_file'))
        # Only the mark says a restart is owed: the module never stops the daemon, the handlers' restart does.
        owed = journals.restart_owed(params['journal_dir'])
        daemon = {'binary': sendmail or params['binary'], 'pid_file': state.get('pid_file'), 'service': service_name(),
                  'running': running, 'restart_owed': owed}
        result = {'changed': False, 'changed_controls': [], 'plan': [], 'not_done': [], 'results': [], 'manual': [],
                  'refused': [], 'notes': [], 'runas_breaks': [], 'restart_needed': False, 'cf_changed': [], 'cf_source': {}, 'os_family': self.family,
                  'update_hook': platform(self.family)['update_hook'],
                  'daemon': daemon, 'journal': {'path': os.path.join(params['journal_dir'], journals.NAME),
                                                'restart_mark': os.path.join(params['journal_dir'], journals.RESTART_MARK)}}
        if recovered:
            result['completed'] = {key: recovered[key] for key in ('run', 'started', 'steps', 'phases_done', 'how')}
        if not state['installed']:
            if located.get('seen'):  # sendmail is there, but nothing can read it: not a host without sendmail
                raise EngineError('%s: give the program in binary, or reinstall sendmail; nothing was changed.' % located['seen'], result)
            return dict(result, skipped=True, msg='sendmail is not installed', reason=state['reason'])
        expected = expected_values(self.controls, self.family, params['expected'])
        findings = self.judge(state, expected)
        try:
            plan = self.plan(state, [item for item in findings if item['id'] in chosen], expected)
        except plan_of.PlanError as exc:
            raise EngineError('%s; nothing was changed.' % exc, result) from exc
        self.stale = running and running_older_than(state.get('pid_file'), state['configs']['mta']['path'])
        applied = [item for item in plan.steps if item['kind'] in plan_of.APPLIED]
        after = None
        failures = []
        # Everything sendmail would refuse is found before the first write: a refused run changes nothing.
        try:
            self.check_installed(applied, state, sendmail)
            self.check_configs(plan, applied, state, sendmail)
        except BuildError as exc:
            raise EngineError(str(exc), result) from exc
        if self.io.check_mode:
            done = [dict(item, changed=True) for item in applied]
        else:
            done, failures = self._apply_journaled(plan, applied, sendmail, recovered, result, findings)
            state = self.read(state) if any(item['changed'] for item in done) else state
            after = self.judge(state, expected)
        report = self.report(result, findings, plan, done, after)
        # What an update of the package would give back (rpm families): read after the run, or planned in check mode.
        report['package_updates'] = update_undoes(state.get('package_verify'), after or findings, state, done, expected)
        if self.backups:
            report['backup_files'] = self.backups
        if not self.io.check_mode and params['restart']:
            journals.mark_restart(params['journal_dir'], report['restart_needed'])
        return report

    def undo(self) -> dict:
        """Revert the last run that changed something, from its journal, in reverse order (in check mode: say what
        would be). Refused, with nothing changed, where the host no longer has what that run left on a path (an
        administrator's later change is never undone)."""
        directory = self.params['journal_dir']
        try:
            found = journals.load(directory)
        except journals.JournalError as exc:
            raise EngineError(str(exc)) from exc
        sendmail = self.params['binary'] if os.path.exists(self.params['binary']) else self.io.bin('sendmail', SENDMAIL_DIRS)
        # The pid file sendmail names is all undo reads of it: the journal holds the rest.
        d0 = ask_binary(self.io.run, sendmail)[0] if sendmail else None
        state = {'pid_file': d0['pid_file']} if d0 else {}
        running = mta_running(state.get('pid_file'))
        owed = journals.restart_owed(directory)
        result = {'changed': False, 'changed_controls': [], 'undone': [], 'plan': [], 'not_done': [], 'manual': [], 'notes': [],
                  'restart_needed': False, 'cf_changed': [], 'journal': {'path': os.path.join(directory, journals.NAME),
                                                                         'restart_mark': os.path.join(directory, journals.RESTART_MARK)},
                  'daemon': {'binary': sendmail or self.params['binary'], 'pid_file': state.get('pid_file'), 'service': service_name(),
                             'running': running, 'restart_owed': owed}}
        if not found or found['status'] != 'done':
            why = {None: 'no run of the hardening changed this host', 'undone': 'the last run was undone already',
                   'rolled_back': 'the last run was rolled back', 'applying': None}[found and found['status']]
            if why is None:
                raise EngineError('the last run of the hardening did not finish (%s, see %s): run the hardening to complete it, '
                                  'then undo; nothing was changed.' % (found['started'], result['journal']['path']), result)
            return dict(result, msg='Nothing to undo: %s.' % why)
        # Steps done that changed something, and a killed run's step that began (it may have): undone in reverse order.
        entries = [entry for entry in found['steps'] if undoable(entry)]
        last = {}
        for entry in entries:  # a path two steps changed in turn is judged by what the last one left
            if entry['state'] == 'done':
                last[(entry['step']['kind'], entry['step']['target'])] = entry
        later = sorted({entry['step']['target'] for entry in last.values()
                        if not kinds.KINDS[entry['step']['kind']]['still'](entry['step'], entry['record'])})
        if later:
            raise EngineError('changed since the run of %s: %s; undo leaves an administrator\'s later change alone, so '
                              'nothing was changed.' % (found['started'], ', '.join(later)), result)
        steps = [dict(entry['step'], changed=True) for entry in reversed(entries)]
        configs = [item['target'] for item in steps if item['kind'] == 'config']
        result.update(changed=bool(steps), undone=[{'id': item['id'], 'kind': item['kind'], 'target': item['target']} for item in steps],
                      changed_controls=sorted({item['id'] for item in steps if item['id']}), cf_changed=configs,
                      restart_needed=owed or (bool(configs) and running))
        if not self.io.check_mode and steps:
            undone, errors = kinds.undo_all(entries, self._context(sendmail), found['copies'])
            # Each configuration put back is one sendmail accepted before that run: it must read it again now.
            errors += [why for why in (check_installed(path, self.io.run, sendmail) for path in configs if sendmail) if why]
            journal = journals.Journal(directory)
            journal.data = found
            journal.finish('undone', undo_errors=errors)
            if errors:
                raise EngineError('the undo stopped short: %s.' % '; '.join(errors), result)
            if self.params['restart']:
                journals.mark_restart(directory, result['restart_needed'])
        result['msg'] = '%s the run of %s: %d step%s%s.' % (
            'Would undo' if self.io.check_mode else 'Undid', found['started'], len(steps), '' if len(steps) == 1 else 's',
            '; restart sendmail to use the %s it had' % ', '.join(os.path.basename(p) for p in configs) if result['restart_needed']
            else '')
        return result

    def _apply_journaled(self, plan: Plan, applied: list, sendmail: str, recovered: dict | None, result: dict,
                         findings: list) -> tuple:
        """Record the run, carry it out, and roll it back where anything fails: a failed run leaves the host as it was."""
        journal = journals.Journal(self.params['journal_dir'])
        entries, copies = self.record(plan, applied)
        inherited = recovered['entries'] if recovered else []
        if not entries and not inherited:
            return [], []
        try:
            # The killed run's steps come first, as far as they came: an undo reverts them after this run's.
            journal.start([{'step': entry['step'], 'record': entry['record'], 'inherited': True, 'state': entry['state'],
                            'changed': entry.get('changed')} for entry in inherited] + entries,
                          {'running': bool(result['daemon']['running'] or result['daemon']['restart_owed'])},
                          copies, recovered['copies'] if recovered else {}, self.selection())
        except (OSError, journals.JournalError) as exc:
            if journal.data is None:
                journal.data = {'run': 'none'}
            journal.restore_previous()
            raise EngineError('could not write the journal %s: %s; nothing was changed.' % (
                journal.path, getattr(exc, 'strerror', None) or exc), result) from exc
        done, failures = [], []
        try:
            done, failures = self.apply(plan, applied, sendmail, journal, offset=len(inherited))
            if failures:
                raise EngineError('Some fixes could not be made: %s.' % '; '.join(failures), {'done': done})
        except Exception as exc:  # noqa: BLE001 - whatever stopped the run, what it did is undone
            stopped = exc if isinstance(exc, EngineError) else EngineError('the run stopped: %s.' % (
                getattr(exc, 'strerror', None) or exc))
            undone, errors = self.roll_back(journal, sendmail, restore=not inherited)
            stopped.result = self.report(result, findings, plan, [], None)
            stopped.result['rolled_back'] = [{'id': item['id'], 'kind': item['kind'], 'target': item['target']} for item in undone]
            stopped.result['rollback_errors'] = errors
            count = len(stopped.result['rolled_back'])
            stopped.msg = '%s The run was rolled back (%d step%s undone)%s.' % (
                stopped.msg.rstrip('.') + '.', count, '' if count == 1 else 's',
                '; these could not be undone: %s' % '; '.join(errors) if errors else ', the host is as it was')
            if stopped is exc:
                raise
            raise stopped from exc
        journal.finish('done')
        journal.drop_others()
        return done, failures

    def report(self, result: dict, findings: list, plan: Plan, done: list, after) -> dict:
        """The module's result from the plan and what was done (in check mode: what would be)."""
        check_mode = self.io.check_mode
        refused_now = [item for item in done if item.get('refused')]
        not_done = [item for item in plan.steps if item['kind'] in plan_of.NOT_APPLIED] + [
            plan_of.refuse(item['id'], item['target'], item['refused']) for item in refused_now]
        changed_steps = [item for item in done if item.get('changed')]
        before = {item['id']: item for item in findings}
        after_by_id = {item['id']: item for item in after or []}
        result = dict(result, plan=[dict(item) for item in done], not_done=not_done,
                      changed_controls=plan_of.changed_ids(changed_steps), changed=bool(changed_steps))
        result['cf_source'] = {config: change['source'] for config, change in plan.changes.items()}
        installed = [change for change in plan.changes.values() if change['cf_changed']]
        if not check_mode:
            installed = [change for change in installed if any(item['kind'] in plan_of.CONFIG_KINDS and item['target'] == change['cf']
                                                               for item in changed_steps)]
        result['cf_changed'] = [change['cf'] for change in installed]
        # A run cut short after installing a .cf leaves a daemon that still runs the old one: restart it too.
        daemon = result['daemon']
        # A daemon the administrator stopped stays stopped; one an unfinished run or restart left stopped is started.
        result['restart_needed'] = bool(daemon['restart_owed'] or (daemon['running'] and (installed or self.stale)))
        result['refused'] = [{'id': item['id'], 'path': item['target'], 'reason': item['why']}
                             for item in not_done if item['kind'] == 'refuse']
        still = {c_id for c_id, item in (after_by_id or before).items() if item['status'] in plan_of.FAILING}
        result['manual'] = sorted({item['id'] for item in not_done if item['id'] and item['id'] in still})
        if self.params['rebuild_maps']:
            result['maps'] = [{'name': item['name'], 'source': item['source'], 'database': item['target'],
                               'command': item.get('command'), 'error': item.get('error')}
                              for item in done if item['kind'] == 'map_rebuild']
        taken = {item['id']: item['why'] for item in plan.taken}
        selected = {control['id'] for control in self.selected}
        reported = [control['id'] for control in self.controls if control['id'] in selected or control['id'] in taken]
        for c_id in reported:
            mine = [item for item in done if item['id'] == c_id]
            waiting = [item['why'] for item in not_done if item['id'] == c_id]
            status = before[c_id]['status']
            if c_id in taken:
                details = taken[c_id]
            elif status == 'waived':
                details = ' '.join(waiting)
            elif status not in plan_of.FAILING:
                details = 'passes; left alone'
            else:
                details = 'not done: ' + ' '.join(waiting) if waiting and not mine else before[c_id]['actual']
            result['results'].append({'id': c_id, 'status_before': status,
                                      'status_after': after_by_id[c_id]['status'] if after_by_id else None,
                                      'changed': any(item.get('changed') for item in mine), 'steps': mine, 'details': details})
        if after is not None:
            result['drift_after'] = [{'id': item['id'], 'status': item['status'], 'actual': item['actual']}
                                     for item in after if item['status'] in plan_of.FAILING and item['id'] in reported]
        result['diff'] = self._diff(plan, changed_steps)
        breaks = plan.breaks
        result['runas_breaks'] = list(breaks)  # filled only where the plan sets a new RunAsUser
        if result['runas_breaks']:
            more = len(breaks) - plan_of.ITEMS_SAID
            self.io.warn('RunAsUser %s although %d deliver%s need root; these stop working: %s%s.' % (
                'would be set' if check_mode else 'set', len(breaks), 'y' if len(breaks) == 1 else 'ies',
                '; '.join(breaks[:plan_of.ITEMS_SAID]), '; and %d more (runas_breaks)' % more if more > 0 else ''))
        # A decision the administrator wrote into the .mc and did not build yet is not overwritten without a word.
        for item in done:
            pending = item.get('pending')
            if pending and not pending['kept']:
                self.io.warn('%s: the define %s %s of %s, not built yet, does not meet it: %s by %s.' % (
                    item['id'], pending['define'], pending['value'], pending['mc'],
                    'would be replaced' if check_mode else 'replaced', item['after']))
        if not_done:
            self.io.warn('Not done by the hardening: %s.' % '; '.join(
                '%s: %s' % (item['id'] or item['target'], item['why'].rstrip('.')) for item in not_done))
        result['notes'] = list(taken.values()) + plan_of.expired_waivers([before[c_id] for c_id in reported])
        for note in result['notes']:
            self.io.warn(note + '.')
        result['msg'] = self.summary(result, list(taken))
        return result

    @staticmethod
    def _diff(plan: Plan, changed_steps: list) -> list:
        entries = []
        for config, change in plan.changes.items():
            ids = [item['id'] for item in changed_steps if item['kind'] in plan_of.CONFIG_KINDS and item['config'] == config]
            if not ids:
                continue
            if change['mc_changed']:
                entries.append(_diff_mc(change, ids))
            if change['cf_changed']:
                entries.append(_diff_cf(dict(change, cf_changes=change['cf_changes'] or option_changes(
                    change['cf_text'], change['cf_new']))))
        return entries + kinds.diff_entries(changed_steps)

    def _restart_reason(self, result: dict) -> str:
        if self.stale:
            return STALE
        return OWED if not result['daemon']['running'] else OWED_RUNNING

    def summary(self, result: dict, taken=()) -> str:
        count = len(result['changed_controls'])
        listed = {kind: sorted({item['id'] for item in result['not_done'] if item['kind'] == kind}) for kind in ('held', 'waived')}
        by_hand = ', '.join(c_id for c_id in result['manual'] if c_id not in listed['held'])
        # What the user chose, and what the hardening did beyond the selection because of it.
        said = ''.join('; %s: %s' % (label, ', '.join(ids)) for label, ids in (
            ('taken too', list(taken)), ('held back', listed['held']), ('waived', listed['waived'])) if ids)
        completed = ''
        if result.get('completed'):
            how = result['completed']['how']
            completed = '; %s (%s, %d step%s begun)' % (
                'this run completed one that stopped part-way' if how == 'completed' else
                'an earlier run that stopped part-way, asked something else, was %s first' % how,
                result['completed']['started'], result['completed']['steps'], '' if result['completed']['steps'] == 1 else 's')
        if not count:
            if not result['changed']:
                text = ('Nothing changed; by hand: %s' % by_hand) if by_hand else (
                    'Nothing changed' if said else 'Every selected control passes; nothing to change')
                return text + said + ('; ' + self._restart_reason(result) if result['restart_needed'] else '') + completed + '.'
            return 'Upkeep only (map databases rebuilt); no control needed a change%s%s.' % (said, completed)
        text = '%d control%s %s' % (count, '' if count == 1 else 's', 'to fix' if self.io.check_mode else 'fixed')
        if result['cf_changed'] and not result['restart_needed']:
            text += '; sendmail is stopped: the new %s takes effect when it is next started' % ', '.join(
                os.path.basename(p) for p in result['cf_changed'])
        elif result['cf_changed']:
            text += '; restart sendmail to use the new %s' % ', '.join(os.path.basename(p) for p in result['cf_changed'])
        elif result['restart_needed']:
            text += '; ' + self._restart_reason(result)
        text += completed
        if by_hand:
            text += '; by hand: %s' % by_hand
        return text + plan_of.pending_said(result['plan']) + said + '.'
