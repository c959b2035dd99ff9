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
      description: Whether a process is accepting connections.
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

import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._assess import sendmail_runner
from ansible_collections.mailsec.sendmail.plugins.module_utils._binary import DEFAULT_BINARY, drop_method, resolve_binary
from ansible_collections.mailsec.sendmail.plugins.module_utils._cf import parse_cf, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._host import (
    candidate_paths, daemon_processes, read_statoverrides, setid_files,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._privdrop import method_works, not_run, probe
from ansible_collections.mailsec.sendmail.plugins.module_utils._state import ask_binary

DEFAULT_CONFIGS = {'mta': '/etc/mail/sendmail.cf', 'msp': '/etc/mail/submit.cf'}


def empty_result(binary: dict) -> dict:
    """Every key, as for a host without sendmail."""
    return {
        'installed': False, 'binary': binary, 'version': None, 'compiled_with': [], 'os_defines': [],
        'uses_seteuid': None, 'has_setreuid': None, 'drop_method': None,
        'kernel': not_run('sendmail is not installed'), 'method_works': None,
        'mta_config': None, 'msp_config': None, 'pid_file': None,
        'settings': {'mta': None, 'msp': None}, 'config_errors': [],
    }


def read_config(role: str, path: str):
    """(settings, error) of one configuration file; a bad file gives an error, not an exception."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            parsed = parse_cf(handle.read())
    except OSError as exc:
        return None, {'role': role, 'path': path, 'error': exc.strerror or str(exc)}
    if not parsed['options'] and parsed['version_level'] is None:
        return None, {'role': role, 'path': path, 'error': 'no options and no V line: not a sendmail configuration'}
    return settings(parsed), None


def probe_uid(name: str) -> int | None:
    """The uid of the probe user, given by name or number."""
    if name.isdigit():
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def kernel_facts(module: AnsibleModule) -> dict:
    """The kernel probe, or why it was not run."""
    if not module.params['probe_kernel']:
        return not_run('probe_kernel is false')
    uid = probe_uid(module.params['probe_user'])
    if uid is None:
        return not_run('probe_user %s does not exist' % module.params['probe_user'])
    return probe(uid)


def sendmail_facts(module: AnsibleModule, result: dict, d0: dict) -> None:
    """Fill ``result`` from the -d0.10 output, the configuration files and the kernel probe."""
    method = drop_method(d0['os_defines'])
    files = d0['config_files']
    result.update({
        'installed': True, 'version': d0['version'], 'compiled_with': d0['compiled_with'], 'os_defines': d0['os_defines'],
        'uses_seteuid': 'USESETEUID' in d0['os_defines'], 'has_setreuid': 'HASSETREUID' in d0['os_defines'],
        'drop_method': method, 'pid_file': d0['pid_file'],
        'mta_config': files.get('mta') or files.get('selected') or DEFAULT_CONFIGS['mta'],
        'msp_config': files.get('msp') or DEFAULT_CONFIGS['msp'],
    })
    for role in ('mta', 'msp'):
        path = result['%s_config' % role]
        result['settings'][role], error = read_config(role, path)
        if error:
            result['config_errors'].append(error)
            module.warn('Could not read the %s configuration %s: %s.' % (role.upper(), path, error['error']))
    result['kernel'] = kernel_facts(module)
    result['method_works'] = method_works(method, result['kernel'])
    if result['method_works'] is False:
        module.warn('sendmail was built to change user ids with %s, but this kernel failed that test (%s).'
                    % (method, result['kernel']['failed_step']))


def host_facts(binary: dict) -> dict:
    """Running daemons, set-id files and statoverrides; gathered with or without sendmail."""
    processes = daemon_processes()
    return {
        'daemon': {'running': any(proc['role'] == 'listener' for proc in processes), 'processes': processes},
        'setid_files': setid_files(candidate_paths(extra=tuple(binary['chain']))),
        'statoverrides': read_statoverrides(),
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'binary': {'type': 'path', 'default': DEFAULT_BINARY},
            'probe_kernel': {'type': 'bool', 'default': True},
            'probe_user': {'type': 'str', 'default': 'nobody'},
        },
        supports_check_mode=True,
    )
    binary = resolve_binary(module.params['binary'])
    result = empty_result(binary)
    if not binary['exists']:
        result['reason'] = '%s does not exist' % module.params['binary']
    else:
        d0, reason = ask_binary(sendmail_runner(module), module.params['binary'])
        if d0 is None:
            result['reason'] = reason
        else:
            sendmail_facts(module, result, d0)
    result.update(host_facts(binary))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
