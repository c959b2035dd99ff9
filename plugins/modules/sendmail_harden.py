#!/usr/bin/python
# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sendmail_harden
short_description: Fix what the mailsec baseline finds wrong on a sendmail host
version_added: 0.1.0
description:
  - Evaluates the selected controls of the collection's catalogue exactly as M(mailsec.sendmail.sendmail_drift) does,
    leaves the passing ones alone and applies the fix the catalogue defines for each failing one (its C(fix_data),
    described per control in the collection's C(docs/controls.md)). There is no second definition of a control here.
  - First the C(.mc) defines (RunAsUser, DontBlameSendmail, QueueFileMode, ...), batched per file, with one edit
    and one rebuild per file (C(sendmail.mc) gives C(sendmail.cf), C(submit.mc) gives C(submit.cf)). Every C(.cf) is
    built by m4 into a temporary file and checked by C(sendmail -C <candidate> -bv root) before any file is
    written; when m4 or sendmail rejects one, nothing is changed and the module fails naming the file.
  - Then the host is read and evaluated again (a new RunAsUser changes who must own the MTA queue and the
    statistics file; they are handed to that user) and the owners, groups and modes are fixed. Each change is
    made on an opened file descriptor (C(lstat), C(O_NOFOLLOW), C(fstat) check, C(fchown) then C(fchmod)); a
    symbolic link is followed only where the control's fix says so (the alias file, C(/etc/mail/aliases) to
    C(/etc/aliases)); a file with several hard links in a directory others can write to is refused and reported.
  - On Debian, C(dpkg-statoverride) entries are kept in line with the fixes, so that a package upgrade does not undo
    them (see O(statoverride)).
  - Fixes of kind C(manual) (for example SM-PRIVDROP-01, SM-TRUST-01) are never applied; they are listed in RV(manual).
  - A host without sendmail is not a failure; the result says V(sendmail is not installed) and is marked skipped.
author:
  - mailsec.sendmail developers (!UNKNOWN)
options:
  include:
    description:
      - Control ids, families or tags to fix; all controls when empty.
    type: list
    elements: str
    default: []
  exclude:
    description:
      - Control ids, families or tags to leave alone, applied after O(include).
    type: list
    elements: str
    default: []
  expected:
    description:
      - Overrides of expected values, by control id, as in M(mailsec.sendmail.sendmail_drift); the fixes use the same
        values (for example the user of SM-RUNAS-01, which the fix writes into C(confRUN_AS_USER)).
      - A RunAsUser user or group that does not exist on the host fails the task before anything is changed.
    type: dict
    default: {}
  os_family:
    description:
      - The OS family whose expected values and fixes apply, as C(ansible_facts['os_family']) names it.
      - Detected from C(/etc/os-release) when not given.
    type: str
  binary:
    description:
      - Path of the sendmail program. It is also the program that checks each new C(.cf) and rebuilds the aliases.
    type: path
    default: /usr/sbin/sendmail
  statoverride:
    description:
      - On hosts with C(dpkg-statoverride), also pin the new mode of every file whose set-user-id bit is dropped
        (for example C(root root 0755 /usr/sbin/sensible-mda)), so that a reinstall of the package does not bring
        the bit back.
      - Whatever its value, an existing statoverride entry of a file whose set-user-id bit is dropped is updated
        (else the next upgrade would undo the fix), and the entries of SM-STATOVR-01 are fixed when that control is
        selected and fails.
    type: bool
    default: true
  backup:
    description:
      - Keep a time-stamped copy of each C(.mc) and C(.cf) file before it is replaced.
    type: bool
    default: false
  rebuild_maps:
    description:
      - Rebuild the alias database (C(sendmail -bi)) when an alias file is newer than its C(.db), and each C(hash) or
        C(btree) map of C(sendmail.cf) (C(makemap)) whose source is newer than its database.
      - The databases are rebuilt after the C(.cf) and before the owners and modes are fixed.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Decided before any write. The task is changed when any selected control fails (or, with O(rebuild_maps),
        a database is stale), and RV(changed_controls) lists exactly the controls M(mailsec.sendmail.sendmail_drift)
        reports as failing (V(fail) or V(error)).
      - The new C(.cf) files are built and checked by sendmail in a private temporary directory; the file changes
        are planned on the configuration they would give.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - "One entry per C(.mc) file (its text) and per rebuilt C(.cf) (its options), one per control for owners, groups
        and modes (a line C(path: owner:group mode) per path) and one per control for C(dpkg-statoverride) entries."
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - m4 and sendmail's m4 configuration files (Debian and Red Hat C(sendmail-cf)) when a C(.mc) define must change.
notes:
  - Run it as root (C(become=true)).
  - The module does not restart sendmail; notify a handler when RV(restart_needed) is true.
  - Setting RunAsUser makes the MTA give up root after start-up; it then cannot read C(.forward) files in private home
    directories nor run programs or local delivery agents as their users. Weigh this per host (SM-RUNAS-01).
seealso:
  - module: mailsec.sendmail.sendmail_drift
  - module: mailsec.sendmail.sendmail_mc
  - module: mailsec.sendmail.sendmail_info
"""

EXAMPLES = r"""
- name: Bring the host to the baseline
  mailsec.sendmail.sendmail_harden:
    backup: true
  register: harden
  notify: Restart sendmail

- name: Only the queue and file controls; this site keeps its queue readable by its group
  mailsec.sendmail.sendmail_harden:
    include: [queue, files]
    expected:
      SM-QUEUE-01:
        mode: "0750"

- name: Everything but RunAsUser, which local delivery through procmail still needs root for
  mailsec.sendmail.sendmail_harden:
    exclude: [SM-RUNAS-01]
    rebuild_maps: true

- name: Predict the changes; compare with sendmail_drift
  mailsec.sendmail.sendmail_harden:
  check_mode: true
  diff: true
  register: planned
"""

RETURN = r"""
changed_controls:
  description:
    - The ids of the controls changed, sorted. In check mode every failing control (as M(mailsec.sendmail.sendmail_drift)
      reports it); otherwise the failing controls that something was changed for or that pass afterwards.
  returned: always
  type: list
  elements: str
  sample: [SM-FILE-01, SM-QUEUE-01, SM-RUNAS-01, SM-SAFE-01, SM-SETUID-01]
results:
  description: One entry per selected control, in catalogue order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The control id.
      type: str
      sample: SM-QUEUE-01
    status_before:
      description: Its status before any change (as M(mailsec.sendmail.sendmail_drift) reports it).
      type: str
      sample: fail
    status_after:
      description: Its status after the changes; null in check mode.
      type: str
      sample: pass
    changed:
      description: Whether something was (in check mode, would be) changed for it.
      type: bool
      sample: true
    actions:
      description:
        - What was done, in order. C(kind) is V(mc_define) (C(mc), C(cf), C(define), C(value)), V(path) (C(path),
          C(target) when a link was followed, C(before) and C(after) owner, group and mode), V(statoverride)
          (C(path), C(before), C(after) as C(owner group mode)), or V(refuse) (C(path), C(reason)). Each has
          C(changed), and C(refused) or C(error) when it could not be done.
      type: list
      elements: dict
    details:
      description: Why nothing was done, what was found, or what is left to do by hand.
      type: str
      sample: "/var/spool/mqueue: owner smmta, not root, mode 2750 has 2050 beyond 0700"
manual:
  description: The ids of failing controls that need work by hand (manual fixes, refused paths, missing values).
  returned: always
  type: list
  elements: str
  sample: [SM-PRIVDROP-01]
restart_needed:
  description: Whether a C(.cf) was (in check mode, would be) replaced; running daemons read it only after a restart.
  returned: always
  type: bool
  sample: true
cf_changed:
  description: The C(.cf) files replaced (in check mode, to be replaced).
  returned: always
  type: list
  elements: str
  sample: [/etc/mail/sendmail.cf]
backup_files:
  description: The copies of replaced files.
  returned: when O(backup=true) and a file was replaced
  type: list
  elements: str
refused:
  description:
    - Paths left alone because changing them would not be safe (symbolic links not meant to be followed, planted hard
      links, absent files), including suspicious entries of the queue directories; each with C(path) and C(reason).
  returned: always
  type: list
  elements: dict
maps:
  description: The map databases rebuilt (in check mode, to rebuild), with C(name), C(source), C(database) and C(command).
  returned: when O(rebuild_maps=true)
  type: list
  elements: dict
drift_after:
  description:
    - The controls still failing after the changes, each with C(id), C(status) and C(actual); empty when the host
      meets the baseline. Manual controls stay here until fixed by hand.
  returned: when not in check mode and sendmail is installed
  type: list
  elements: dict
  sample: [{id: SM-PRIVDROP-01, status: fail, actual: seteuid fails on this kernel}]
skipped:
  description: True when sendmail is not installed on the host.
  returned: when sendmail is not installed
  type: bool
  sample: true
msg:
  description: A summary in a sentence.
  returned: always
  type: str
  sample: 5 controls fixed; restart sendmail to use the new sendmail.cf.
os_family:
  description: The OS family whose expected values were used.
  returned: always
  type: str
  sample: Debian
"""

import datetime
import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._assess import (
    expected_values, read_host, selection_errors, sendmail_runner,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._cfbuild import BuildError
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import select
from ansible_collections.mailsec.sendmail.plugins.module_utils._evaluate import evaluate
from ansible_collections.mailsec.sendmail.plugins.module_utils._harden import (
    RUN_AS_DEFINE, PlanError, account_errors, diff_entries, failing_ids, path_name_errors, plan_files, plan_mc, predict_state,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._harden_apply import (
    apply_path, apply_pin, cf_option_diff, install_mc, prepare_mc, queue_hazards, rebuild_maps, stale_maps,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._state import account, lstat_entry, read_os

SENDMAIL_DIRS = ['/usr/sbin', '/usr/lib', '/usr/lib/sm.bin', '/usr/libexec/sendmail']
QUEUE_CONTROLS = ('SM-QUEUE-01', 'SM-QUEUE-02', 'SM-QUEUE-03')


def host_accounts():
    """(user name -> primary group name, group names) of the host."""
    groups = {entry.gr_name for entry in grp.getgrall()}
    by_gid = {entry.gr_gid: entry.gr_name for entry in grp.getgrall()}
    users = {entry.pw_name: by_gid.get(entry.pw_gid, str(entry.pw_gid)) for entry in pwd.getpwall()}
    return users, groups


def summary(result: dict, check_mode: bool) -> str:
    count = len(result['changed_controls'])
    if not count:
        text = 'Every selected control passes; nothing to change.' if not result['manual'] else \
            'Nothing changed; %s need%s work by hand.' % (', '.join(result['manual']), 's' if len(result['manual']) == 1 else '')
        return text
    text = '%d control%s %s' % (count, '' if count == 1 else 's', 'to fix' if check_mode else 'fixed')
    if result['restart_needed']:
        text += '; restart sendmail to use the new %s' % ', '.join(os.path.basename(p) for p in result['cf_changed'])
    if result['manual']:
        text += '; by hand: %s' % ', '.join(result['manual'])
    return text + '.'


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'include': {'type': 'list', 'elements': 'str', 'default': []},
            'exclude': {'type': 'list', 'elements': 'str', 'default': []},
            'expected': {'type': 'dict', 'default': {}},
            'os_family': {'type': 'str'},
            'binary': {'type': 'path', 'default': '/usr/sbin/sendmail'},
            'statoverride': {'type': 'bool', 'default': True},
            'backup': {'type': 'bool', 'default': False},
            'rebuild_maps': {'type': 'bool', 'default': False},
        },
        supports_check_mode=True,
    )
    params = module.params
    errors = selection_errors(params['include'], params['exclude'], params['expected'])
    if errors:
        module.fail_json(msg='; '.join(errors) + '.')
    controls = select(params['include'], params['exclude'])
    selected = [control['id'] for control in controls]
    check_mode = module.check_mode

    run = sendmail_runner(module)

    def runner(argv, data=None, cwd=None):
        return module.run_command(argv, data=data, binary_data=True, cwd=cwd, expand_user_and_vars=False,
                                  errors='surrogate_or_replace', handle_exceptions=False)

    family = params['os_family'] or read_os()['family']

    def read_state(first=None):
        state = read_host(run, controls, params['binary'], family, params['expected'], probe_kernel=first is None)[1]
        if first is not None:
            state['kernel'], state['method_works'] = first['kernel'], first['method_works']
        return state

    state = read_state()
    result = {'changed': False, 'changed_controls': [], 'results': [], 'manual': [], 'restart_needed': False,
              'cf_changed': [], 'refused': [], 'os_family': family}
    if not state['installed']:
        module.exit_json(skipped=True, msg='sendmail is not installed', reason=state['reason'], **result)
    expected = expected_values(controls, family, params['expected'])
    today = datetime.date.today()
    findings = evaluate(controls, expected, state, today=today)
    before = {item['id']: item for item in findings}
    failing = failing_ids(findings)

    # --- plan phase 1 and check every input before any write ----------------------------------
    try:
        batches, notes = plan_mc(failing, expected, state)
    except PlanError as exc:
        module.fail_json(msg='%s; nothing was changed.' % exc, **result)
    users, groups = host_accounts()
    errors = account_errors(batches, users, groups) + path_name_errors(selected, expected, users, groups)
    if errors:
        module.fail_json(msg='; '.join(errors) + '; nothing was changed.', **result)
    m4 = sendmail = None
    if batches:
        m4 = module.get_bin_path('m4')
        sendmail = params['binary'] if os.path.exists(params['binary']) else module.get_bin_path('sendmail', opt_dirs=SENDMAIL_DIRS)
        if m4 is None:
            module.fail_json(msg='Cannot rebuild %s: m4 is not installed; install m4 and the sendmail-cf files, nothing was '
                             'changed.' % ', '.join(batch['cf'] for batch in batches), **result)
    prepared = []
    try:
        for batch in batches:
            prepared.append(prepare_mc(batch, runner, m4, sendmail, module.tmpdir))
    except BuildError as exc:
        module.fail_json(msg=str(exc), **result)
    except OSError as exc:
        module.fail_json(msg='Cannot read %s: %s; nothing was changed.' % (exc.filename, exc.strerror or exc), **result)

    # --- phase 1: .mc defines and .cf rebuilds --------------------------------------------------
    diff = []
    backups = []
    actions = {control_id: [] for control_id in selected}
    changed_any = False
    for item in prepared:
        for name, value in item['defines'].items():
            for control_id in item['by_define'][name]:
                actions[control_id].append({'kind': 'mc_define', 'mc': item['mc'], 'cf': item['cf'], 'define': name,
                                            'value': value, 'changed': item['mc_changed'] or item['cf_changed']})
        if item['mc_changed'] or item['cf_changed']:
            label = '%s (%s)' % (item['mc'], ', '.join(item['controls']))
            diff.append({'before_header': label, 'after_header': label, 'before': item['old_text'], 'after': item['new_text']})
            if item['cf_changes']:
                diff.append(cf_option_diff(item['cf'], item['cf_changes']))
        if item['cf_changed']:
            result['cf_changed'].append(item['cf'])

    def write_mc(path, text):
        fd, tmp = tempfile.mkstemp(prefix='sendmail_harden.', dir=module.tmpdir)
        with os.fdopen(fd, 'w', encoding='utf-8', errors='surrogateescape') as handle:
            handle.write(text)
        module.atomic_move(tmp, path)

    if not check_mode:
        for item in prepared:
            try:
                done = install_mc(item, runner, m4, sendmail, write_mc, backup=module.backup_local if params['backup'] else None)
            except (BuildError, OSError) as exc:
                message = str(exc) if isinstance(exc, BuildError) else 'Could not install %s: %s.' % (item['cf'], exc.strerror or exc)
                installed = [p['cf'] for p in prepared[:prepared.index(item)] if p['cf_changed']]
                if installed:
                    message += ' Already installed: %s.' % ', '.join(installed)
                result.update(cf_changed=installed, changed=bool(installed))
                module.fail_json(msg=message, **result)
            backups.extend(done['backup_files'])
            changed_any = changed_any or item['mc_changed'] or item['cf_changed']
    result['restart_needed'] = bool(result['cf_changed'])
    runas_changed = any(item['cf_changed'] and RUN_AS_DEFINE in item['defines'] and 'SM-RUNAS-01' in item['by_define'][RUN_AS_DEFINE]
                        for item in prepared)

    # --- maps ----------------------------------------------------------------------------------
    if params['rebuild_maps']:
        stale = stale_maps(state)
        if check_mode or not stale:
            result['maps'] = [dict(item, command=None, error=None) for item in stale]
        else:
            makemap = module.get_bin_path('makemap', opt_dirs=SENDMAIL_DIRS)
            result['maps'] = rebuild_maps(stale, runner, sendmail or params['binary'], makemap)
            changed_any = True

    # --- phase 2: re-read, re-evaluate, fix files, modes and statoverrides ----------------------
    if check_mode:
        cf_texts = {item['role']: item['rendered'] for item in prepared if item['cf_changed'] and item['role']}
        state2 = predict_state(state, cf_texts, account, lstat_entry) if cf_texts else state
    else:
        state2 = read_state(state) if prepared or result.get('maps') else state
    findings2 = evaluate(controls, expected, state2, today=today)
    failing2 = failing_ids(findings2)
    dpkg = module.get_bin_path('dpkg-statoverride') if family == 'Debian' else None
    try:
        ops, notes2 = plan_files(failing2, expected, state2, {'statoverride': params['statoverride'], 'dpkg': bool(dpkg)},
                                 runas_changed=runas_changed)
    except PlanError as exc:
        module.fail_json(msg='%s; the .cf changes are done, the files are not.' % exc, **result)
    notes.extend(notes2)
    done_ops = []
    failures = []
    for op in ops:
        if op['kind'] == 'path':
            done = apply_path(op, check_mode)
        elif op['kind'] == 'statoverride':
            done = apply_pin(op, runner, dpkg, check_mode)
            if done['error']:
                failures.append(done['error'])
        else:
            done = {'kind': 'refuse', 'path': op['path'], 'changed': False, 'refused': op['reason']}
        done['id'] = op['id']
        actions[op['id']].append(done)
        done_ops.append(done)
        if done.get('refused'):
            result['refused'].append({'id': op['id'], 'path': op['path'], 'reason': done['refused']})
        if done['changed'] and not check_mode:
            changed_any = True
    diff.extend(diff_entries([op for op in done_ops if op['changed']]))
    if any(control_id in QUEUE_CONTROLS for control_id in selected):
        queues = (state2['layout'].get('queue_mta') or []) + (state2['layout'].get('queue_msp') or [])
        for hazard in queue_hazards(queues):
            if hazard['path'] not in [item['path'] for item in result['refused']]:
                result['refused'].append(dict(hazard, id=None))
    for item in result['refused']:
        module.warn(item['reason'])

    # --- after ---------------------------------------------------------------------------------
    after = {}
    if not check_mode:
        state3 = read_state(state) if changed_any else state2
        findings3 = evaluate(controls, expected, state3, today=today)
        after = {item['id']: item for item in findings3}
        result['drift_after'] = [{'id': item['id'], 'status': item['status'], 'actual': item['actual']}
                                 for item in findings3 if item['status'] in ('fail', 'error')]
    refused_ids = {item['id'] for item in result['refused'] if item.get('id')}
    note_by_id = {}
    for note in notes:
        note_by_id.setdefault(note['id'], []).append(note['reason'])
    for control_id in selected:
        status_before = before[control_id]['status']
        was_failing = status_before in ('fail', 'error')
        if check_mode:
            changed = was_failing
        else:
            changed = was_failing and (any(action.get('changed') for action in actions[control_id])
                                       or after[control_id]['status'] not in ('fail', 'error'))
        if not was_failing:
            details = 'passes; left alone'
        elif control_id in note_by_id:
            details = 'by hand: ' + ' '.join(note_by_id[control_id])
        else:
            details = before[control_id]['actual']
        result['results'].append({'id': control_id, 'status_before': status_before,
                                  'status_after': after[control_id]['status'] if after else None,
                                  'changed': changed, 'actions': actions[control_id], 'details': details})
        if changed:
            result['changed_controls'].append(control_id)
        still_failing = check_mode or after[control_id]['status'] in ('fail', 'error')
        if was_failing and still_failing and (control_id in note_by_id or control_id in refused_ids):
            result['manual'].append(control_id)
    result['changed_controls'].sort()
    result['manual'].sort()
    if check_mode:
        result['changed'] = bool(failing) or bool(result.get('maps'))
    else:
        result['changed'] = changed_any
    if backups:
        result['backup_files'] = backups
    if module._diff:
        result['diff'] = diff
    result['msg'] = summary(result, check_mode)
    if failures:
        module.fail_json(msg='Some fixes could not be made: %s.' % '; '.join(failures), **result)
    map_errors = [item['error'] for item in result.get('maps') or [] if item.get('error')]
    if map_errors:
        module.fail_json(msg='Could not rebuild the map databases: %s.' % '; '.join(map_errors), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
