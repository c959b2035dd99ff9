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
    leaves the passing ones alone and plans the fix the catalogue defines for each failing one (its C(fix_data),
    described per control in the collection's C(docs/controls.md)). There is no second definition of a control here.
  - The plan is an ordered list of steps, built once from the host's state, each with its control id, kind, target,
    before, after and why (RV(plan)). In check mode the module returns it; for real it applies it, reads the host
    again and judges it again (RV(drift_after)).
  - "The steps run in this order: stale map databases rebuilt (O(rebuild_maps)); owners and modes that sendmail's own
    file-safety checks read, and every other owner and mode that does not depend on a new RunAsUser; the options of
    C(sendmail.cf) and C(submit.cf); what the MTA writes (its queue, the files queued in it, its statistics file) handed
    to a new RunAsUser; C(dpkg-statoverride) entries. Each step leaves a host whose sendmail accepts its configuration."
  - Every new C(.cf) is written to a temporary file and checked by C(sendmail -C <candidate> -bv root) before it is
    installed by rename; when sendmail rejects one, it is not installed and the module fails naming the file.
  - "A C(.cf) is changed in one of two ways (O(cf_source)): rebuilt from its C(.mc) with m4 (the define is set in the
    C(.mc) first), or edited in place: the option line is set and every other line of the installed file is kept
    (and the define is set in the C(.mc) too, when there is one, so that a later rebuild keeps it). V(auto) rebuilds
    only where the installed C(.cf) is exactly what its C(.mc) builds, so hand edits are never dropped."
  - "A define the C(.mc) holds and the installed C(.cf) does not (added, not built yet) is the administrator's decision,
    judged as the control would judge it in the C(.cf). Where it meets the control it is kept: the C(.cf) edited in
    place gets the fix, the C(.mc) keeps the define for its next rebuild and SM-CF-01 goes on reporting it (a rebuild
    with O(cf_source=mc) builds it as it is). Where it does not, the plan replaces it, and the step's C(why), the
    summary and a warning name both values; a limit above its bound is the site's there too, never lowered."
  - Owners and modes are changed on an opened file descriptor (C(lstat), C(O_NOFOLLOW), C(fstat) check, C(fchown) then
    C(fchmod)); a symbolic link is followed only where the control's check follows it (the alias file,
    C(/etc/mail/aliases) to C(/etc/aliases)); a file with several hard links in a directory others can write to is
    refused. Check mode makes the same checks.
  - Fixes of kind C(manual) (SM-TRUST-01, SM-PRIVDROP-01, SM-CF-01) and refused paths are never applied and never
    counted as changes; they are listed in RV(not_done) and RV(manual), with one warning.
  - "Some fixes need another control's fix for mail to keep working, as the catalogue's C(REQUIRES) says: dropping
    the set-user-id bit of the sendmail binary needs its set-group-id C(smmsp) (SM-SETGID-01), or every ordinary
    user's submission fails; setting RunAsUser (SM-RUNAS-01) needs the MTA queue owned by that user (SM-QUEUE-01).
    Where the plan leaves the host without it, the needed fix is taken too, even when O(include) does not name it,
    and said (RV(notes), a warning, the summary, RV(changed_controls)); where O(exclude) names it or a waiver
    accepts it, the steps that need it are held back and said (RV(not_done), kind V(held)). A binary that keeps
    its set-group-id bit, or a queue the new RunAsUser owns already, needs nothing more."
  - A control that O(waivers) waive on this host (the same list as M(mailsec.sendmail.sendmail_drift)'s) is judged
    but neither counted as drift nor changed; RV(not_done) lists it with kind V(waived), its reason and expiry.
    An expired waiver no longer applies, and RV(notes) says so.
  - sendmail is looked for beyond O(binary) as M(mailsec.sendmail.sendmail_drift) does, and the program found is the
    one used.
  - A host without sendmail is not a failure; the result says V(sendmail is not installed) and is marked skipped.
    A host where a sendmail daemon runs (or a package lists a sendmail program) but no sendmail program answers is a
    failure, whose message names what was seen; nothing is changed there.
author:
  - mailsec.sendmail developers (!UNKNOWN)
extends_documentation_fragment:
  - mailsec.sendmail.waivers
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
        values (for example the user of SM-RUNAS-01, which the fix writes into C(RunAsUser)).
      - A user or group a step would set that does not exist on the host fails the task before anything is changed.
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
  cf_source:
    description:
      - How a C(.cf) whose options must change is changed.
      - V(auto) rebuilds it from its C(.mc) when the installed file is exactly what the C(.mc) builds (comments and blank
        lines aside), and edits it in place otherwise (hand edits, a C(.mc) changed but not built, no m4 or no
        sendmail-cf files on the host).
      - V(mc) always rebuilds from the C(.mc); on a host where that would drop lines of the installed file, or cannot be
        done, the task fails listing them and nothing is changed.
      - V(cf) always edits the installed file in place.
    type: str
    choices: [auto, mc, cf]
    default: auto
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
  run_as_user_force:
    description:
      - Set RunAsUser (SM-RUNAS-01) even where SM-RUNAS-02 finds deliveries on the host that need root (C(.forward) files
        the RunAsUser cannot read, private C(:include:) lists, programs and files run as their users, a local delivery
        agent that needs root).
      - With V(false) RunAsUser is left unset on such a host, with one warning naming the first ten and counting the rest; everything else is
        hardened. With V(true) it is set, and RV(runas_breaks) lists what stops working.
    type: bool
    default: false
  backup:
    description:
      - Keep a time-stamped copy of each C(.mc) and C(.cf) file before it is replaced.
    type: bool
    default: false
  rebuild_maps:
    description:
      - Rebuild the alias database (C(sendmail -bi)) when an alias file is newer than its C(.db), and each C(hash) or
        C(btree) map of C(sendmail.cf) (C(makemap)) whose source is newer than its database, before anything else.
    type: bool
    default: false
  undo:
    description:
      - Revert the last run that changed the host, from its journal, in reverse order; files, owners, modes,
        statoverride entries, alias edits and the C(.cf)/C(.mc) are put back as they were before that run, and the
        alias database is made again. The other options are ignored.
      - Refused, with nothing changed, where the host no longer has what that run left on a path (an
        administrator's later change is never undone), or where that run did not finish.
      - In check mode, says what it would revert.
    type: bool
    default: false
  restart:
    description:
      - Whether the caller restarts the MTA where RV(restart_needed) says so (the role's handlers do, unless
        C(sendmail_hardening_restart) is false). Only then is the restart marked on the host as owed until the
        handlers take the mark away, so that a run killed between the restart's stop and its start is followed by a
        start; with V(false), no mark is left.
    type: bool
    default: true
  journal_dir:
    description:
      - The directory, root's alone, where each run records its plan before its first write (the attributes before
        each step, copies of the files it replaces, whether the MTA ran) and marks each step as it completes.
      - A run that fails after changing anything undoes its steps from it; a run that finds the journal of a run that
        did not finish (killed, the host down) completes that run's work where it was asked the same (tags, values),
        and rolls it back first where it was asked something else; O(undo) reverts the last run from it.
      - Refused where it, or a directory above it, can be written by others than root.
    type: path
    default: /var/lib/mailsec-sendmail
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Returns the plan a real run would apply. The task is changed when the plan has steps that apply, and
        RV(changed_controls) lists the controls those steps fix, the same set a real run then changes.
      - Each new C(.cf) is built and checked by sendmail in a private temporary directory; every owner and mode change
        goes through the same link checks as for real.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - "One entry per changed C(.mc) (its text) and C(.cf) (its options, and how it was changed), one per control for
        owners, groups and modes (a line C(path: owner:group mode) per path) and one per control for
        C(dpkg-statoverride) entries."
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - m4 and sendmail's m4 configuration files (Debian and Red Hat C(sendmail-cf)) to rebuild a C(.cf) from its C(.mc);
    without them a C(.cf) is edited in place.
  - openssl to make a self-signed certificate and key where C(SM-TLS-03.self_signed) asks for one; without it that
    fix is one manual step and nothing of it is changed.
notes:
  - Run it as root (C(become=true)).
  - The module does not restart sendmail; notify a handler when RV(restart_needed) is true. RV(daemon) gives the
    program, pid file and service found on the host.
  - Setting RunAsUser makes the MTA give up root after start-up; it then cannot read C(.forward) files in private home
    directories nor run programs or local delivery agents as their users. SM-RUNAS-02 finds those deliveries, and
    RunAsUser is not set where it finds any, unless O(run_as_user_force=true).
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

- name: Drop set-user-id bits but where the audit's waivers accept them (the set-group-id bit comes along where needed)
  mailsec.sendmail.sendmail_harden:
    include: [setuid]
    host_name: "{{ inventory_hostname }}"
    waivers:
      - id: SM-SETUID-01
        hosts: "relay*"
        reason: procmail delivery through sensible-mda, migration planned
        expires: "2026-12-31"

- name: Predict the changes; compare with sendmail_drift
  mailsec.sendmail.sendmail_harden:
  check_mode: true
  diff: true
  register: planned
"""

RETURN = r"""
changed_controls:
  description:
    - The ids of the controls that steps were (in check mode, would be) taken for, sorted. Manual fixes, refused
      paths, held and waived controls are never among them; a control whose fix another one needs and that was taken
      too is.
  returned: always
  type: list
  elements: str
  sample: [SM-FILE-01, SM-QUEUE-01, SM-RUNAS-01, SM-SAFE-01, SM-SETUID-01]
plan:
  description:
    - The steps that apply, in the order they run (in check mode, would run). Each has C(id) (the control, or null for
      upkeep such as a map rebuild), C(kind) (V(map_rebuild), V(path), V(alias_edit), V(empty_file), V(unlink),
      V(cf_option), V(mc_feature), V(cf_listen), V(statoverride)), C(phase)
      (V(maps), V(paths), V(config), V(handover), V(pins)), C(target), C(before), C(after), C(why) and C(changed).
    - C(path) steps have C(follow) and C(resolved) (the link target changed); C(cf_option) steps C(config), C(option)
      and C(define), and C(pending) where the C(.mc) held a define of the option its C(.cf) did not (C(mc), C(define),
      C(value), C(kept) whether it stays in the C(.mc), C(built) whether the rebuild builds it as it is);
      C(mc_feature) steps C(config), C(feature) and C(add); C(cf_listen) steps C(config), with the
      DaemonPortOptions values before and after; for real, C(refused) or C(error) say why a step was not done.
  returned: always
  type: list
  elements: dict
  sample:
    - {id: SM-QUEUE-01, kind: path, phase: handover, target: /var/spool/mqueue, changed: true,
       before: {owner: smmta, group: smmsp, mode: "2750"}, after: {owner: smmta, group: smmsp, mode: "0700"},
       why: "mode 2750 has 2050 beyond 0700"}
not_done:
  description:
    - The steps the hardening does not take, with C(id), C(kind), C(target) and C(why). V(manual) a fix only a person
      can make (or a value missing), V(refuse) a path not safe to change, V(held) steps that need another control's fix
      the user left out (excluded, switched off or waived; C(target) the paths), V(waived) a control a waiver accepts
      (with C(reason) and C(expires)).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: SM-TRUST-01, kind: manual, target: null, why: "Remove confTRUSTED_USER from sendmail.mc ..."}
    - {id: SM-SETUID-01, kind: waived, target: null, why: "waived until 2026-12-31: procmail delivery through sensible-mda",
       reason: procmail delivery through sensible-mda, expires: "2026-12-31"}
notes:
  description:
    - "What the hardening did beyond the selection, or was told and did not apply, one sentence each (each also a
      warning): a fix taken too because a selected fix needs it, a waiver that has expired."
  returned: always
  type: list
  elements: str
  sample:
    - "SM-SETGID-01 taken too: dropping the set-user-id bit of /usr/lib/sm.bin/sendmail needs its set-group-id smmsp for
      mail submission"

results:
  description: One entry per selected control, and per control taken too, in catalogue order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The control id.
      type: str
      sample: SM-QUEUE-01
    status_before:
      description: Its status before any change (as M(mailsec.sendmail.sendmail_drift) reports it, V(waived) included).
      type: str
      sample: fail
    status_after:
      description: Its status after the changes; null in check mode.
      type: str
      sample: pass
    changed:
      description: Whether a step was (in check mode, would be) taken for it.
      type: bool
      sample: true
    steps:
      description: Its steps from RV(plan).
      type: list
      elements: dict
    details:
      description: Why nothing was done (held back, waived), what was found, why it was taken too, or what is left to do by hand.
      type: str
      sample: "/var/spool/mqueue: owner smmta, not root, mode 2750 has 2050 beyond 0700"
manual:
  description: The ids of failing controls left to do by hand (manual fixes, refused paths, missing values, steps held back).
  returned: always
  type: list
  elements: str
  sample: [SM-PRIVDROP-01]
refused:
  description:
    - Paths left alone because changing them would not be safe (symbolic links not meant to be followed, planted hard
      links, absent files), including suspicious entries of the queue directories; each with C(id), C(path) and C(reason).
  returned: always
  type: list
  elements: dict
runas_breaks:
  description:
    - With O(run_as_user_force=true), where RunAsUser is (in check mode, would be) set although SM-RUNAS-02 found
      deliveries that need root, one line per delivery that stops working (path, owner, group, mode, the line and why);
      empty otherwise.
  returned: always
  type: list
  elements: str
  sample:
    - "/home/alice/.forward (alice:alice 0600) [1: |/usr/local/bin/note]: smmta cannot read it (/home/alice is alice:alice
      0700): mail to alice goes to the mailbox instead"
restart_needed:
  description:
    - Whether the running MTA must be restarted, as a C(.cf) was (in check mode, would be) replaced, or it started
      before the installed C(sendmail.cf) was last written (a run cut short after installing it, an edit nobody
      restarted for); running daemons read it only after a restart. False when the MTA does not run
      (C(daemon.running)), as a daemon the administrator stopped stays stopped and reads the new C(.cf) when next started.
  returned: always
  type: bool
  sample: true
cf_changed:
  description: The C(.cf) files replaced (in check mode, to be replaced).
  returned: always
  type: list
  elements: str
  sample: [/etc/mail/sendmail.cf]
cf_source:
  description: How each changed configuration (V(mta), V(msp)) is changed, V(mc) (rebuilt) or V(cf) (edited in place).
  returned: always
  type: dict
  sample: {mta: cf}
daemon:
  description:
    - What the handlers need, as found on the host. C(binary) (the sendmail program), C(pid_file) (the MTA's, from
      C(sendmail -d0.10)), C(service) (the service manager's name for it, null when none was found) and C(running)
      (whether the MTA daemon ran when the host was read, by the process the pid file names, else one accepting connections)
      and C(restart_owed) (an earlier run that did not finish, or whose restart did not, left it stopped or on an old
      configuration while it had run before).
  returned: always
  type: dict
  sample: {binary: /usr/sbin/sendmail, pid_file: /run/sendmail/mta/sendmail.pid, service: sendmail, running: true, restart_owed: false}
journal:
  description:
    - Where the run's journal is (C(path)), and the mark of a restart the role's handlers still owe (C(restart_mark)),
      which they remove once the MTA runs again.
  returned: always
  type: dict
  sample: {path: /var/lib/mailsec-sendmail/journal.json, restart_mark: /var/lib/mailsec-sendmail/restart-pending}
completed:
  description:
    - The earlier run that stopped part-way (killed, the host down), with when it started (C(started)), how many
      steps it had begun (C(steps)), the phases it had ended (C(phases_done)) and what this run did about it (C(how)),
      V(completed) where it was asked the same, V(rolled back) (in check mode V(to roll back)) where it was not.
  returned: when the journal showed a run that did not finish
  type: dict
rolled_back:
  description: The steps (C(id), C(kind), C(target)) a failed run undid, last first.
  returned: when a step failed after the run had changed something
  type: list
  elements: dict
rollback_errors:
  description: What could not be undone when the run was rolled back.
  returned: when a step failed after the run had changed something
  type: list
  elements: str
undone:
  description: With O(undo=true), the steps (C(id), C(kind), C(target)) reverted (in check mode, that would be), last first.
  returned: when O(undo=true)
  type: list
  elements: dict
backup_files:
  description: The copies of replaced files.
  returned: when O(backup=true) and a file was replaced
  type: list
  elements: str
maps:
  description: The map databases rebuilt (in check mode, to rebuild), with C(name), C(source), C(database), C(command) and C(error).
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
reason:
  description: Why sendmail counts as not installed (the program is absent, or does not answer like sendmail).
  returned: when sendmail is not installed
  type: str
  sample: /usr/sbin/sendmail does not exist
skipped:
  description: True when sendmail is not installed on the host.
  returned: when sendmail is not installed
  type: bool
  sample: true
msg:
  description:
    - A summary in a sentence; it names each define a C(.mc) held and its C(.cf) did not, and whether the plan kept it,
      built it or replaced it, by what.
  returned: always
  type: str
  sample: 5 controls fixed; restart sendmail to use the new sendmail.cf.
os_family:
  description: The OS family whose expected values were used.
  returned: always
  type: str
  sample: Debian
update_hook:
  description:
    - How the OS family's package updates undo the hardening, and where the role's hook against it goes; null where
      the collection knows none. C(kind) V(update_sendmail) (Debian's script, C(script), diverted to C(distrib), and
      C(resets), control id to the directory it gives back to smmta) or V(dnf_action) (the Red Hat family, where DNF's
      C(plugin) runs the C(action) file's command, the C(script), after a transaction that installs sendmail).
  returned: when the hardening runs (not with O(undo))
  type: dict
  sample: {kind: dnf_action, plugin: python3-dnf-plugin-post-transaction-actions, actions_dir: /etc/dnf/plugins/post-transaction-actions.d,
           action: /etc/dnf/plugins/post-transaction-actions.d/mailsec-sendmail.action, script: /usr/local/sbin/mailsec-sendmail-keep,
           resets: {}}
package_updates:
  description:
    - Where the OS family's package records the owners and modes of its files (C(rpm) on the Red Hat family), what an
      update or reinstall of the package would put back to the package's values, undoing the hardening there; null
      on other families (on Debian the role reads what C(update_sendmail) resets) and where sendmail is not installed.
  returned: when sendmail is installed and the hardening runs (not with O(undo))
  type: dict
  contains:
    manager:
      description: The package manager.
      type: str
      sample: rpm
    package:
      description: The package.
      type: str
      sample: sendmail
    error:
      description: Why the package could not be read; null when it was.
      type: str
    undoes:
      description:
        - Each file the package installs whose owner, group or mode the baseline sets other than the package records
          them, with C(id) (the control whose fix sets it), C(path) and the C(owner), C(group) and C(mode) the hardening
          leaves there (in check mode, would leave); the same in check mode, for real and on the next run.
      type: list
      elements: dict
      sample: [{id: SM-QUEUE-01, path: /var/spool/mqueue, owner: mailnull, group: mail, mode: "0700"}]
    unexplained:
      description: The package's files that differ from it in a way no passing control asks for (see M(mailsec.sendmail.sendmail_drift)).
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEFAULT_BINARY
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_journal import DIRECTORY as JOURNAL_DIRECTORY
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import sendmail_runner
from ansible_collections.mailsec.sendmail.plugins.module_utils._engine import Engine, EngineError, ModuleIO
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import WAIVER_OPTIONS
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import CF_SOURCES


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'include': {'type': 'list', 'elements': 'str', 'default': []},
            'exclude': {'type': 'list', 'elements': 'str', 'default': []},
            'expected': {'type': 'dict', 'default': {}},
            **WAIVER_OPTIONS,
            'os_family': {'type': 'str'},
            'binary': {'type': 'path', 'default': DEFAULT_BINARY},
            'cf_source': {'type': 'str', 'choices': list(CF_SOURCES), 'default': 'auto'},
            'statoverride': {'type': 'bool', 'default': True},
            'run_as_user_force': {'type': 'bool', 'default': False},
            'backup': {'type': 'bool', 'default': False},
            'rebuild_maps': {'type': 'bool', 'default': False},
            'undo': {'type': 'bool', 'default': False},
            'restart': {'type': 'bool', 'default': True},
            'journal_dir': {'type': 'path', 'default': JOURNAL_DIRECTORY},
        },
        supports_check_mode=True,
    )
    engine = Engine(ModuleIO(module, sendmail_runner(module)), module.params)
    try:
        result = engine.run()
    except EngineError as exc:
        result = {key: value for key, value in exc.result.items() if key != 'msg' and (module._diff or key != 'diff')}
        module.fail_json(msg=exc.msg, **result)
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
