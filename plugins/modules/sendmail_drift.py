#!/usr/bin/python
# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sendmail_drift
short_description: Compare a sendmail host with the controls of the mailsec baseline
version_added: 0.1.0
description:
  - Evaluates the controls of the collection's catalogue (privilege, files, queue, safety, smtp, aliases, programs, logging,
    limits, relay, transit, privdrop) on a host in
    one call and returns one finding per control, with the expected and actual values, the evidence read, the
    references (the sendmail book, the DISA STIG where an item exists) and a fix hint.
    The catalogue and each control's meaning are described in the collection's C(docs/controls.md).
  - Reads sendmail's own view of its files (C(sendmail -d0.10 -bt)), C(sendmail.cf) and C(submit.cf), and C(lstat)s
    the files and directories they name. Symbolic links are followed only where a control says so (the alias and
    map files), and both the link and its target are reported.
  - "sendmail is looked for beyond O(binary) where that program is absent or does not answer like sendmail: the
    alternatives link C(/etc/alternatives/mta), the places sendmail is installed (C(/usr/sbin/sendmail.sendmail),
    C(/usr/lib/sm.bin/sendmail), C(/usr/libexec/sendmail/sendmail), ...), the programs dpkg's
    C(/var/lib/dpkg/info/sendmail-bin.list) names, and the programs the running sendmail daemons were started from
    (C(/proc/PID/exe)). sendmail found there is audited, and every finding's evidence says where it was found."
  - "Never changes anything. A host without sendmail gives every control V(not_applicable) and the verdict
    V(no_sendmail), which is not V(compliant). Where no sendmail program answers but something shows sendmail is
    there (a sendmail daemon runs, found by its name, its program or sendmail's pid file; a package lists a program
    that is gone), nothing could be read: every control is V(error), naming what was seen, and the host drifts.
    An unreadable or corrupt configuration gives V(error) findings for the controls that need it. None of these
    fails the module, unless O(fail_on_drift) is set."
author:
  - mailsec.sendmail developers (!UNKNOWN)
extends_documentation_fragment:
  - mailsec.sendmail.waivers
options:
  include:
    description:
      - Control ids, families or tags to evaluate; all controls when empty.
    type: list
    elements: str
    default: []
  exclude:
    description:
      - Control ids, families or tags to leave out, applied after O(include).
    type: list
    elements: str
    default: []
  expected:
    description:
      - Overrides of expected values, by control id. Each value is a dict of the keys that control knows
        (listed per control in C(docs/controls.md)); keys not given keep the default of the host's OS family.
      - Modes are quoted octal strings, for example V("0750").
    type: dict
    default: {}
  os_family:
    description:
      - The OS family whose expected values apply, as C(ansible_facts['os_family']) names it.
      - Detected from C(/etc/os-release) when not given.
    type: str
  fail_on_drift:
    description:
      - Fail the task when a control fails or cannot be evaluated (status V(fail) or V(error)); the findings are still returned.
    type: bool
    default: false
  binary:
    description:
      - Path of the sendmail program to ask. Symbolic links and alternatives are followed and reported.
      - Where it is absent or not sendmail's, sendmail is looked for elsewhere (see the description).
    type: path
    default: /usr/sbin/sendmail
  probe_kernel:
    description:
      - Whether to run the kernel probe of SM-PRIVDROP-01. It needs root; without it that control is V(error).
    type: bool
    default: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: The module never changes anything.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Run it as root (C(become=true)); the queue directories, some map files and the kernel probe need it.
  - The kernel probe forks a child that changes its own user ids and then exits; the module's process keeps its ids.
seealso:
  - module: mailsec.sendmail.sendmail_info
"""

EXAMPLES = r"""
- name: Compare the host with the baseline
  mailsec.sendmail.sendmail_drift:
    host_name: "{{ inventory_hostname }}"
  register: drift

- name: Only the queue and file controls, and a site that keeps its queue readable by its group
  mailsec.sendmail.sendmail_drift:
    include: [queue, files]
    expected:
      SM-QUEUE-01:
        mode: "0750"

- name: Accept the set-user-id sensible-mda until the end of the year on the relays, fail on any other drift
  mailsec.sendmail.sendmail_drift:
    host_name: "{{ inventory_hostname }}"
    waivers:
      - id: SM-SETUID-01
        hosts: "relay*"
        reason: procmail delivery through sensible-mda, migration planned
        expires: "2026-12-31"
    fail_on_drift: true
"""

RETURN = r"""
findings:
  description: One finding per evaluated control, in catalogue order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The control id.
      type: str
      sample: SM-QUEUE-01
    title:
      description: What the control wants, in a line.
      type: str
      sample: The MTA queue belongs to root (or RunAsUser) with mode 0700
    family:
      description: The control's family.
      type: str
      choices: [privilege, files, queue, safety, smtp, aliases, programs, logging, limits, relay, transit, privdrop]
      sample: queue
    severity:
      description: How bad a failure is.
      type: str
      choices: [high, medium, low]
      sample: high
    status:
      description: The outcome.
      type: str
      choices: [pass, fail, error, not_applicable, waived]
      sample: fail
    expected:
      description: The expected value in words.
      type: str
      sample: owner root or RunAsUser; mode 0700 or stricter
    actual:
      description: What was found, in words.
      type: str
      sample: "/var/spool/mqueue: owner smmta, not root; /var/spool/mqueue: mode 2750 has 2050 beyond 0700"
    path:
      description: The main path concerned, or null.
      type: str
      sample: /var/spool/mqueue
    evidence:
      description: What was read.
      type: str
      sample: "lstat /var/spool/mqueue: smmta:smmsp 2750"
    references:
      description: The sendmail book section and the DISA STIG item where one exists.
      type: list
      elements: str
      sample: ["sendmail 4th ed. ch. 4, Table 4-1 (recommended permissions)"]
    fix:
      description: How to fix it, in words.
      type: str
      sample: chown root (or the RunAsUser user) and chmod 0700 the queue directory.
    waiver:
      description: The waiver that matched (C(id), C(reason), C(expires), C(expired)), or null.
      type: dict
      sample: {id: SM-SETUID-01, reason: procmail delivery, expires: "2026-12-31", expired: false}
counts:
  description: The number of findings of each status (every status present).
  returned: always
  type: dict
  sample: {pass: 12, fail: 5, error: 0, not_applicable: 0, waived: 0}
drift:
  description: Whether any finding is V(fail) or V(error).
  returned: always
  type: bool
  sample: true
controls_evaluated:
  description: The number of controls evaluated (after O(include) and O(exclude)).
  returned: always
  type: int
  sample: 18
excluded:
  description:
    - The controls of the catalogue not evaluated, because O(include) and O(exclude) left them out, each with its C(id)
      and C(title), in catalogue order; empty when every control was evaluated.
    - A host that passes every control evaluated meets the baseline only as far as these were not needed; the reports
      name them.
  returned: always
  type: list
  elements: dict
  sample: [{id: SM-SMTP-01, title: PrivacyOptions refuse SMTP probes and restrict the queue}]
verdict:
  description:
    - The host's verdict. V(drift) when a control fails or could not be evaluated (status V(fail) or V(error));
      V(no_sendmail) when no sendmail was found and nothing shows it is there; V(compliant) otherwise.
  returned: always
  type: str
  choices: [compliant, drift, no_sendmail]
  sample: compliant
sendmail:
  description: What was found of sendmail, and where.
  returned: always
  type: dict
  contains:
    installed:
      description: Whether a sendmail program was found and answered C(-d0.10) like sendmail.
      type: bool
      sample: true
    version:
      description: Its version; null when not installed.
      type: str
      sample: 8.17.1.9
    drop_method:
      description: The compiled privilege-drop method; null when not installed.
      type: str
      sample: seteuid
    program:
      description: The program that answered (O(binary), or where sendmail was found instead); null when none did.
      type: str
      sample: /usr/sbin/sendmail.sendmail
    found:
      description: Where and how sendmail was found when O(binary) was not it; null otherwise.
      type: str
      sample: /usr/sbin/sendmail does not exist; sendmail found at /usr/sbin/sendmail.sendmail, through the alternatives link /etc/alternatives/mta
    reason:
      description: Why no sendmail program counts as installed; null when one does.
      type: str
      sample: /usr/sbin/sendmail does not exist
    seen:
      description: What shows sendmail on a host where no program of it answers (every finding is then V(error)); null otherwise.
      type: str
      sample: a sendmail daemon runs (pid 812, /usr/lib/sm.bin/sendmail (deleted)) but /usr/sbin/sendmail does not exist
os_family:
  description: The OS family whose expected values were used.
  returned: always
  type: str
  sample: Debian
package:
  description:
    - What the package manager says of sendmail's files, where the OS family's package records their owners and
      modes (C(rpm -V sendmail) on the Red Hat family), each difference judged against the controls that read the
      file; null where the family's package keeps none (on Debian, SM-STATOVR-01 judges dpkg's statoverrides).
  returned: always
  type: dict
  contains:
    manager:
      description: The package manager asked.
      type: str
      sample: rpm
    package:
      description: The package verified.
      type: str
      sample: sendmail
    error:
      description: Why the package could not be verified (no C(rpm), the package not installed); null when it was.
      type: str
    entries:
      description:
        - Each file that differs from the package, with C(flags) as C(rpm -V) prints them, C(changed) (their words),
          C(config), C(ghost), C(missing), and C(kind) - V(intended) (an owner, group or mode a passing control sets, named in
          C(controls)), V(configuration) (a configuration file's content), V(timestamp) or V(unexplained) (nothing in
          the baseline asks for it; C(why) says what differs).
      type: list
      elements: dict
      sample: [{path: /var/spool/mqueue, flags: .....U..., changed: [owner], config: false, ghost: false, missing: false, kind: intended,
                controls: [SM-QUEUE-01], why: the owner SM-QUEUE-01 sets}]
    update_undoes:
      description:
        - The controls whose changes an update or reinstall of the package (or C(rpm --setperms) and C(rpm --setugids))
          puts back to the package's owners and modes (SM-QUEUE-01's queue given to the RunAsUser, which then fails
          again; the statistics file SM-RUNAS-01 hands over, which the MTA can then no longer write). A ghost (a file the
          package records but never installs, C(ghost)) is left as it is by an update.
      type: list
      elements: str
      sample: [SM-QUEUE-01, SM-SMTP-03]
    unexplained:
      description: The paths of the entries of kind V(unexplained).
      type: list
      elements: str
      sample: []
audited:
  description:
    - When the audit of the host began and ended (UTC), for the reports that name them (XCCDF, OSCAL).
  returned: always
  type: dict
  contains:
    start:
      description: The time the module started, as C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
      sample: '2026-12-07T08:00:00Z'
    end:
      description: The time the judgement ended, as C(YYYY-MM-DDTHH:MM:SSZ).
      type: str
      sample: '2026-12-07T08:00:02Z'
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEFAULT_BINARY
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge_package import package_drift
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import (
    expected_values, read_host, selection_errors, sendmail_runner,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, left_out, select
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import WAIVER_OPTIONS, evaluate, summarize, waiver_errors


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def input_errors(params: dict) -> list:
    """Every problem of the options, one sentence each."""
    return selection_errors(params['include'], params['exclude'], params['expected']) + waiver_errors(params['waivers'], BY_ID)


def sendmail_facts(state: dict) -> dict:
    """What was found of sendmail, and where, as the module returns it."""
    located = state.get('locate') or {}
    return {'installed': state['installed'], 'version': state['version'], 'drop_method': state['drop_method'],
            'program': located.get('program'), 'found': located.get('found'), 'reason': state['reason'],
            'seen': located.get('seen')}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'include': {'type': 'list', 'elements': 'str', 'default': []},
            'exclude': {'type': 'list', 'elements': 'str', 'default': []},
            'expected': {'type': 'dict', 'default': {}},
            **WAIVER_OPTIONS,
            'os_family': {'type': 'str'},
            'fail_on_drift': {'type': 'bool', 'default': False},
            'binary': {'type': 'path', 'default': DEFAULT_BINARY},
            'probe_kernel': {'type': 'bool', 'default': True},
        },
        supports_check_mode=True,
    )
    params = module.params
    started = utc_now()
    errors = input_errors(params)
    if errors:
        module.fail_json(msg='; '.join(errors) + '.')
    controls = select(params['include'], params['exclude'])

    family, state = read_host(sendmail_runner(module), controls, params['binary'], params['os_family'],
                              params['expected'], probe_kernel=params['probe_kernel'], m4=module.get_bin_path('m4'),
                              rpm=module.get_bin_path('rpm'))
    expected = expected_values(controls, family, params['expected'])
    findings = evaluate(controls, expected, state, params['waivers'], params['host_name'], datetime.date.today())
    result = dict(summarize(findings, state), changed=False, findings=findings, os_family=family,
                  sendmail=sendmail_facts(state), excluded=left_out(controls), audited={'start': started, 'end': utc_now()},
                  package=package_drift(state.get('package_verify'), findings, state, expected))
    if params['fail_on_drift'] and result['drift']:
        failing = [item['id'] for item in findings if item['status'] in ('fail', 'error')]
        module.fail_json(msg='sendmail drifts from the baseline in %d control%s (%s): fix or waive %s.'
                         % (len(failing), '' if len(failing) == 1 else 's', ', '.join(failing), 'it' if len(failing) == 1 else 'them'),
                         **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
