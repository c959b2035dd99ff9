#!/usr/bin/python
# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sendmail_info
short_description: Report how sendmail is built, configured and running on a host
version_added: 0.1.0
description:
  - Reads what sendmail says about itself with C(sendmail -d0.10 -bt) (version, C(Compiled with), C(OS Defines),
    configuration and pid file paths) and derives the method it uses to give up root
    (V(seteuid), V(setreuid) or V(setuid), in the order of sendmail's C(conf.h)).
  - Replays the checks of sendmail's C(test/t_setreuid.c) and C(test/t_seteuid.c) in a throw-away child process
    to tell whether the running kernel behaves as that compiled method needs, and warns when it does not.
  - Parses the live MTA and MSP configuration files (C(sendmail.cf), C(submit.cf)) and returns the settings
    that matter for hardening, such as C(RunAsUser), C(TrustedUser), C(PrivacyOptions) and C(DontBlameSendmail).
  - Lists the running sendmail processes with their users, the set-user-id and set-group-id files of the
    sendmail packages, and the dpkg statoverride entries.
  - Reads the host through the same reader as M(mailsec.sendmail.sendmail_drift) and M(mailsec.sendmail.sendmail_harden),
    so where O(binary) is absent or not sendmail's, sendmail is looked for where they look for it.
  - Never changes the host. A host without sendmail returns RV(installed=false) and does not fail.
author:
  - mailsec.sendmail developers (!UNKNOWN)
options:
  binary:
    description:
      - Path of the sendmail program to ask. Symbolic links and alternatives are followed and reported.
    type: path
    default: /usr/sbin/sendmail
  probe_kernel:
    description:
      - Whether to run the kernel probe. It needs root; without root it is reported as not run.
    type: bool
    default: true
  probe_user:
    description:
      - The unprivileged user (name or uid) that plays the invoking user in the kernel probe.
    type: str
    default: nobody
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
    details: The kernel probe needs C(setresuid), present on Linux and the BSDs.
notes:
  - The kernel probe forks a child that changes its own user ids and then exits; the module's process keeps its ids.
  - C(sendmail -d0.10 -bt) reads the configuration but does not deliver or queue mail.
"""

EXAMPLES = r"""
- name: Read sendmail facts
  mailsec.sendmail.sendmail_info:
  register: sendmail

- name: Show the privilege drop method and whether the kernel supports it
  ansible.builtin.debug:
    msg: "{{ sendmail.drop_method }} works: {{ sendmail.method_works }}"
  when: sendmail.installed

- name: Ask another binary, without the kernel probe
  mailsec.sendmail.sendmail_info:
    binary: /usr/sbin/sendmail.sendmail
    probe_kernel: false
"""

RETURN = r"""
installed:
  description: Whether a sendmail program was found and answered C(-d0.10) like sendmail.
  returned: always
  type: bool
  sample: true
reason:
  description: Why RV(installed) is false.
  returned: when RV(installed) is false
  type: str
  sample: /usr/sbin/sendmail does not exist
binary:
  description: The program asked and where its links lead.
  returned: always
  type: dict
  contains:
    path:
      description: The path given in O(binary).
      type: str
      sample: /usr/sbin/sendmail
    chain:
      description: Every path met following symbolic links (and a mailwrapper), the given path first.
      type: list
      elements: str
      sample: [/usr/sbin/sendmail, /etc/alternatives/sendmail, /usr/libexec/sendmail/sendmail]
    resolved:
      description: The real file at the end of the chain.
      type: str
      sample: /usr/libexec/sendmail/sendmail
    exists:
      description: Whether that file exists.
      type: bool
      sample: true
alternatives:
  description:
    - Where the program asked passes through a link the alternatives system manages (the C(mta) alternative of the Red Hat
      family), that link and the program it selects; null otherwise.
  returned: always
  type: dict
  contains:
    link:
      description: The alternatives link met on the way.
      type: str
      sample: /etc/alternatives/mta
    target:
      description: What the alternative selects.
      type: str
      sample: /usr/sbin/sendmail.sendmail
os_family:
  description: The OS family of the host, as C(ansible_facts['os_family']) names it, read from C(/etc/os-release).
  returned: always
  type: str
  sample: RedHat
package:
  description:
    - What the package manager says of sendmail's files, where the OS family's package records their owners and modes
      (C(rpm -V sendmail) on the Red Hat family); null elsewhere. See M(mailsec.sendmail.sendmail_drift) for the same,
      judged against the controls.
  returned: always
  type: dict
  sample: {manager: rpm, package: sendmail, error: null, entries: [{path: /var/spool/mqueue, flags: .....U..., changed: [owner],
           config: false, ghost: false, missing: false}],
           recorded: {/var/spool/mqueue: {owner: root, group: mail, mode: '0700'}}}
version:
  description: sendmail's version; null when not installed.
  returned: always
  type: str
  sample: 8.17.1.9
compiled_with:
  description: The features of the C(Compiled with) block.
  returned: always
  type: list
  elements: str
  sample: [DNSMAP, LOG, MILTER, STARTTLS]
os_defines:
  description: The defines of the C(OS Defines) block.
  returned: always
  type: list
  elements: str
  sample: [HASSETREUID, USESETEUID]
uses_seteuid:
  description: Whether C(USESETEUID) is among RV(os_defines).
  returned: always
  type: bool
  sample: true
has_setreuid:
  description: Whether C(HASSETREUID) is among RV(os_defines).
  returned: always
  type: bool
  sample: true
drop_method:
  description: The way sendmail changes user ids, chosen at compile time.
  returned: always
  type: str
  choices: [seteuid, setreuid, setuid]
  sample: seteuid
kernel:
  description: The kernel probe replaying sendmail's C(t_setreuid) and C(t_seteuid) tests.
  returned: always
  type: dict
  contains:
    probed:
      description: Whether the probe ran.
      type: bool
      sample: true
    reason:
      description: Why it did not run.
      type: str
      sample: the probe needs root (effective uid is 1000)
    setreuid_ok:
      description: Whether the kernel passed the C(t_setreuid) sequence; null when not probed.
      type: bool
      sample: true
    seteuid_ok:
      description: Whether the kernel passed the C(t_seteuid) sequence; null when not probed.
      type: bool
      sample: true
    failed_step:
      description: The first step that failed in each failing test.
      type: str
      sample: "t_seteuid: seteuid(0) failed: Operation not permitted"
method_works:
  description: Whether the kernel passed the test of RV(drop_method); null when not probed or not installed.
  returned: always
  type: bool
  sample: true
mta_config:
  description: The MTA configuration file sendmail reads.
  returned: always
  type: str
  sample: /etc/mail/sendmail.cf
msp_config:
  description: The mail submission program's configuration file.
  returned: always
  type: str
  sample: /etc/mail/submit.cf
pid_file:
  description: The MTA daemon's pid file.
  returned: always
  type: str
  sample: /var/run/sendmail/mta/sendmail.pid
settings:
  description:
    - The audited settings of each configuration file, by option name; null where an option is unset.
    - C(PrivacyOptions) and C(DontBlameSendmail) are lists of words gathered over all their lines
      (an empty C(DontBlameSendmail) list means V(safe)); C(DaemonPortOptions) is a list of dicts
      of its key=value pairs; C(AliasFile) is a list. C(trusted_users) is the C(t) class; C(MTAHost) the
      C({MTAHost}) macro, where an MSP (submit.cf) sends its mail.
  returned: always
  type: dict
  contains:
    mta:
      description: Settings from RV(mta_config); null when it could not be read.
      type: dict
      sample: {RunAsUser: null, TrustedUser: smmta, PrivacyOptions: [authwarnings], LogLevel: "9"}
    msp:
      description: Settings from RV(msp_config); null when it could not be read.
      type: dict
      sample: {RunAsUser: smmsp, TrustedUser: smmsp, QueueDirectory: /var/spool/mqueue-client}
config_errors:
  description: Configuration files that could not be read or do not look like sendmail configuration.
  returned: always
  type: list
  elements: dict
  sample: [{role: msp, path: /etc/mail/submit.cf, error: "No such file or directory"}]
daemon:
  description: The running sendmail processes.
  returned: always
  type: dict
  contains:
    running:
      description:
        - Whether the MTA daemon runs, by the rule the hardening uses to leave a stopped daemon stopped - the process
          the pid file names is alive and is sendmail (a stale pid file does not count); where sendmail names no pid
          file, a sendmail process accepting connections.
      type: bool
      sample: true
    processes:
      description:
        - Each sendmail process with its real (C(user)) and effective user, its role and the program it was started from
          (C(exe), as C(/proc/PID/exe) names it; null when unreadable).
        - Processes of another pid namespace (a container's) are left out.
      type: list
      elements: dict
      sample:
        - {pid: 812, ppid: 1, role: listener, user: root, effective_user: root, title: "sendmail: MTA: accepting connections",
           exe: /usr/libexec/sendmail/sendmail}
        - {pid: 830, ppid: 1, role: queue_runner, user: smmsp, effective_user: smmsp,
           title: "sendmail: MSP: Queue runner@00:20:00 for /var/spool/mqueue-client", exe: /usr/libexec/sendmail/sendmail}
setid_files:
  description: Set-user-id or set-group-id regular files among sendmail's package files and known paths.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /usr/libexec/sendmail/sendmail, owner: root, group: smmsp, mode: "2755", setuid: false, setgid: true}
    - {path: /usr/sbin/sensible-mda, owner: root, group: root, mode: "4755", setuid: true, setgid: false}
statoverrides:
  description: All entries of dpkg's statoverride file; empty where there is none.
  returned: always
  type: list
  elements: dict
  sample: [{owner: root, group: smmsp, mode: "2755", path: /usr/libexec/sendmail/sendmail}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import sendmail_runner
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEFAULT_BINARY
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_binary import ALTERNATIVE_LINKS
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import daemon_processes, mta_running
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import collect


def alternatives_of(binary: dict) -> dict | None:
    """The alternatives link on the program's way and what it selects (the next step of the chain), or None."""
    chain = binary.get('chain') or []
    for index, path in enumerate(chain):
        if path in ALTERNATIVE_LINKS:
            return {'link': path, 'target': chain[index + 1] if index + 1 < len(chain) else binary.get('resolved')}
    return None


def info_of(state: dict) -> dict:
    """The module's result from the host's state, as the audit and the hardening read it (``_read_state.collect``)."""
    installed = state['installed']
    defines = state.get('os_defines') or []
    configs = state['configs']
    result = {
        'installed': installed, 'binary': state['binary'], 'version': state['version'], 'compiled_with': state['compiled_with'],
        'os_defines': defines, 'uses_seteuid': 'USESETEUID' in defines if installed else None,
        'has_setreuid': 'HASSETREUID' in defines if installed else None, 'drop_method': state['drop_method'],
        'kernel': state['kernel'], 'method_works': state['method_works'], 'pid_file': state['pid_file'],
        'mta_config': configs['mta']['path'] if installed else None, 'msp_config': configs['msp']['path'] if installed else None,
        'settings': {role: configs[role]['settings'] for role in ('mta', 'msp')},
        'config_errors': [{'role': role, 'path': configs[role]['path'], 'error': configs[role]['error']}
                          for role in ('mta', 'msp') if installed and configs[role]['error']],
        'daemon': {'running': mta_running(state['pid_file']), 'processes': daemon_processes()},
        'setid_files': state['setid_files'], 'statoverrides': state['statoverrides'],
        'alternatives': alternatives_of(state['binary']), 'os_family': (state.get('os') or {}).get('family'),
        'package': state.get('package_verify'),
    }
    if not installed:
        result['reason'] = state['reason']
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'binary': {'type': 'path', 'default': DEFAULT_BINARY},
            'probe_kernel': {'type': 'bool', 'default': True},
            'probe_user': {'type': 'str', 'default': 'nobody'},
        },
        supports_check_mode=True,
    )
    state = collect(sendmail_runner(module), module.params['binary'], probe_kernel=module.params['probe_kernel'],
                    probe_user=module.params['probe_user'], rpm=module.get_bin_path('rpm'))
    result = info_of(state)
    for error in result['config_errors']:
        module.warn('Could not read the %s configuration %s: %s.' % (error['role'].upper(), error['path'], error['error']))
    if result['method_works'] is False:
        module.warn('sendmail was built to change user ids with %s, but this kernel failed that test (%s).'
                    % (result['drop_method'], result['kernel']['failed_step']))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
