#!/usr/bin/python
# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sendmail_mc
short_description: Set defines and features in a sendmail .mc file and rebuild its .cf safely
version_added: 0.1.0
description:
  - Sets or removes C(define(`NAME', `value')) and C(FEATURE(`name', ...)) lines in a sendmail C(.mc) file
    (C(sendmail.mc) or C(submit.mc)). An active define is changed in place; a new one goes before the first
    C(MAILER) line, where sendmail's m4 files need it. Commented-out lines (C(dnl define(...))) are left alone,
    and everything else in the file is kept byte for byte.
  - Then rebuilds the C(.cf) from it, unlike Debian's C(make -C /etc/mail), which installs a broken C(.cf) when m4
    fails. m4 reads the new C(.mc) text before the file is written; its output goes to a temporary file next to the
    C(.cf); C(sendmail -C <candidate> -bv root) must accept it; only then are the C(.mc) and the C(.cf) replaced,
    each with an atomic rename. When any step fails, both files stay as they were.
  - The C(.cf) is rebuilt when the C(.mc) changes, when the C(.cf) is missing or older than the C(.mc), or when its
    options, classes or version level differ from a fresh build of the C(.mc).
  - Like Debian's Makefile, the new C(.cf) ends with a commented copy of the C(.mc). It keeps the owner, group and
    mode of the C(.cf) it replaces (C(0644) and the current user for a new one); the C(.mc) keeps its own.
author:
  - mailsec.sendmail developers (!UNKNOWN)
options:
  path:
    description:
      - The C(.mc) file to change. It must exist and must not be a symbolic link.
    type: path
    default: /etc/mail/sendmail.mc
  defines:
    description:
      - m4 macros to define, by name (such as V(confRUN_AS_USER) or V(confPRIVACY_FLAGS)), with their values.
      - A value is written as one m4 quoted string, so it may contain commas; it must be one line, and its
        backquotes and quotes must pair up.
      - A null value removes every active define of that name, so that sendmail's default applies again.
    type: dict
    default: {}
  features:
    description:
      - Features to add or change, by name (such as V(smrsh)), with their arguments after the name.
      - A string is one argument (an empty string means none), a list is several, in order; null removes every
        active C(FEATURE) line of that name.
    type: dict
    default: {}
  cf:
    description:
      - The C(.cf) file to build.
      - Default is O(path) with C(.mc) replaced by C(.cf) (C(sendmail.mc) gives C(sendmail.cf), C(submit.mc) gives
        C(submit.cf)); required when O(path) does not end in C(.mc).
    type: path
  build:
    description:
      - Whether to rebuild, check and install the O(cf) as described above.
      - With V(false) only the C(.mc) is changed, and sendmail keeps its old configuration until the C(.cf) is rebuilt.
    type: bool
    default: true
  backup:
    description:
      - Keep a time-stamped copy of each file before replacing it. Nothing is copied when a file does not change.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The new configuration is built and checked by sendmail in a private temporary directory.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff shows the C(.mc) text and the C(.cf) options that change.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - m4 and sendmail's m4 configuration files (Debian C(sendmail-cf), Red Hat C(sendmail-cf)) when O(build=true).
notes:
  - The module does not restart or reload sendmail; notify a handler when RV(cf_changed) is true.
  - Running daemons read the new C(.cf) only after a restart.
  - Map databases are not rebuilt (Debian's C(make -C /etc/mail) also updates C(/etc/mail/databases), C(access.db) and
    others); a new C(FEATURE) that needs a map needs its database built too.
  - Setting C(confRUN_AS_USER) makes the MTA give up root after start-up; it then cannot read C(.forward) files in
    private home directories nor run programs as their users, and its queue must belong to that user.
seealso:
  - module: mailsec.sendmail.sendmail_info
  - name: sendmail cf/README (configuration macros and features)
    description: The meaning of each C(conf*) define and C(FEATURE).
    link: https://ftp.sendmail.org/cf/README
"""

EXAMPLES = r"""
- name: Let the MTA give up root after binding its ports
  mailsec.sendmail.sendmail_mc:
    defines:
      confRUN_AS_USER: smmta:smmsp
  register: mc
  notify: Restart sendmail

- name: Hide the version and restrict SMTP probes
  mailsec.sendmail.sendmail_mc:
    defines:
      confSMTP_LOGIN_MSG: "$j ESMTP"
      confPRIVACY_FLAGS: goaway,restrictmailq,restrictqrun,restrictexpand
      confDONT_BLAME_SENDMAIL: safe
    backup: true

- name: Run programs through smrsh, drop greet_pause
  mailsec.sendmail.sendmail_mc:
    features:
      smrsh: ""
      greet_pause: null

- name: Change the submission program's configuration, without rebuilding it yet
  mailsec.sendmail.sendmail_mc:
    path: /etc/mail/submit.mc
    defines:
      confPRIVACY_FLAGS: goaway,noetrn
    build: false
"""

RETURN = r"""
path:
  description: The C(.mc) file.
  returned: always
  type: str
  sample: /etc/mail/sendmail.mc
cf:
  description: The C(.cf) file built from it.
  returned: always
  type: str
  sample: /etc/mail/sendmail.cf
mc_changed:
  description: Whether the C(.mc) was (or in check mode would be) changed.
  returned: always
  type: bool
  sample: true
cf_changed:
  description: Whether the C(.cf) was (or in check mode would be) rebuilt and replaced.
  returned: always
  type: bool
  sample: true
cf_reason:
  description: Why the C(.cf) is rebuilt; null when it is not.
  returned: always
  type: str
  sample: the .mc changed
defines_changed:
  description: The names in O(defines) whose lines changed.
  returned: always
  type: list
  elements: str
  sample: [confRUN_AS_USER]
features_changed:
  description: The names in O(features) whose lines changed.
  returned: always
  type: list
  elements: str
  sample: [smrsh]
cf_changes:
  description: The C(.cf) options whose values change, by name, with their values on every line before and after.
  returned: always
  type: dict
  sample: {RunAsUser: {before: [], after: ["smmta:smmsp"]}}
backup_file:
  description: The copy of the old C(.mc).
  returned: when O(backup=true) and the C(.mc) changed
  type: str
  sample: /etc/mail/sendmail.mc.1234.2024-06-01@12:00:00~
cf_backup_file:
  description: The copy of the old C(.cf).
  returned: when O(backup=true) and the C(.cf) was replaced
  type: str
  sample: /etc/mail/sendmail.cf.1234.2024-06-01@12:00:00~
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._cfbuild import (
    BuildError, build_cf, cf_signature, option_changes, read_text, render_cf,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._mc import McError, remove_define, remove_feature, set_define, set_feature

SENDMAIL_DIRS = ['/usr/sbin', '/usr/lib', '/usr/lib/sm.bin']


def default_cf(path: str) -> str | None:
    """sendmail.mc -> sendmail.cf, submit.mc -> submit.cf; None when the name does not end in .mc."""
    if path.endswith('.mc'):
        return path[:-3] + '.cf'
    return None


def define_value(name: str, value):
    """A define's value as text; None removes it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    raise McError('the value of %s must be a string or null, not a %s' % (name, type(value).__name__))


def feature_args(name: str, value):
    """A feature's arguments as a list; None removes it."""
    if value is None:
        return None
    if isinstance(value, (str, bool, int, float)):
        value = str(value)
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [str(item) for item in value]
    raise McError('the arguments of FEATURE %s must be a string, a list of strings or null' % name)


def edit_mc(text: str, defines: dict, features: dict):
    """The new .mc text and the names of the defines and features whose lines changed."""
    defines_changed = []
    for name, value in defines.items():
        value = define_value(name, value)
        edited = remove_define(text, name) if value is None else set_define(text, name, value)
        if edited != text:
            defines_changed.append(name)
            text = edited
    features_changed = []
    for name, value in features.items():
        args = feature_args(name, value)
        edited = remove_feature(text, name) if args is None else set_feature(text, name, args)
        if edited != text:
            features_changed.append(name)
            text = edited
    return text, defines_changed, features_changed


def runner_for(module: AnsibleModule):
    """run_command as the runner _cfbuild expects."""
    def run(argv, data=None, cwd=None):
        return module.run_command(argv, data=data, binary_data=True, cwd=cwd, expand_user_and_vars=False,
                                  errors='surrogate_or_replace', handle_exceptions=False)
    return run


def write_mc(module: AnsibleModule, path: str, text: str) -> None:
    """Replace the .mc through a temporary file and atomic_move (which keeps its owner and mode)."""
    fd, tmp = tempfile.mkstemp(prefix='sendmail_mc.', dir=module.tmpdir)
    with os.fdopen(fd, 'w', encoding='utf-8', errors='surrogateescape') as handle:
        handle.write(text)
    module.atomic_move(tmp, path)


def stale_reason(mc_changed: bool, mc_st, cf_st) -> str | None:
    if mc_changed:
        return 'the .mc changed'
    if cf_st is None:
        return 'the .cf does not exist'
    if cf_st.st_mtime_ns < mc_st.st_mtime_ns:
        return 'the .cf is older than the .mc'
    return None


def cf_diff(cf_path: str, changes: dict) -> dict:
    def lines(side):
        return ''.join('O %s=%s\n' % (name, value) for name in sorted(changes) for value in changes[name][side])
    return {'before_header': '%s (options)' % cf_path, 'after_header': '%s (options)' % cf_path,
            'before': lines('before'), 'after': lines('after')}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'path': {'type': 'path', 'default': '/etc/mail/sendmail.mc'},
            'defines': {'type': 'dict', 'default': {}},
            'features': {'type': 'dict', 'default': {}},
            'cf': {'type': 'path'},
            'build': {'type': 'bool', 'default': True},
            'backup': {'type': 'bool', 'default': False},
        },
        supports_check_mode=True,
    )
    mc_path = module.params['path']
    cf_path = module.params['cf'] or default_cf(mc_path)
    if cf_path is None:
        module.fail_json(msg='%s does not end in .mc: set cf to the .cf file to build from it.' % mc_path)
    result = {'changed': False, 'path': mc_path, 'cf': cf_path, 'mc_changed': False, 'cf_changed': False, 'cf_reason': None,
              'defines_changed': [], 'features_changed': [], 'cf_changes': {}}
    try:
        old_text, mc_st = read_text(mc_path)
        if old_text is None:
            module.fail_json(msg='%s does not exist: give the path of the sendmail .mc file.' % mc_path, **result)
        new_text, result['defines_changed'], result['features_changed'] = edit_mc(
            old_text, module.params['defines'] or {}, module.params['features'] or {})
        cf_text, cf_st = read_text(cf_path) if module.params['build'] else (None, None)
    except McError as exc:
        module.fail_json(msg='Cannot change %s: %s.' % (mc_path, exc), **result)
    except BuildError as exc:
        module.fail_json(msg=str(exc), **result)
    except OSError as exc:
        module.fail_json(msg='Cannot read %s: %s.' % (exc.filename or mc_path, exc.strerror or exc), **result)
    result['mc_changed'] = new_text != old_text

    rendered = None
    runner = runner_for(module)
    if module.params['build']:
        reason = stale_reason(result['mc_changed'], mc_st, cf_st)
        m4 = module.get_bin_path('m4')
        sendmail = module.get_bin_path('sendmail', opt_dirs=SENDMAIL_DIRS)
        if m4 is None or sendmail is None:
            missing = 'm4' if m4 is None else 'sendmail'
            if reason:
                module.fail_json(msg='Cannot rebuild %s: %s is not installed; install it (and the sendmail-cf files), '
                                 'nothing was changed.' % (cf_path, missing), **result)
            module.warn('%s is not installed: could not compare %s with a fresh build of %s.' % (missing, cf_path, mc_path))
        else:
            try:
                rendered = render_cf(new_text, mc_path, cf_path, runner, m4=m4)
            except BuildError as exc:
                module.fail_json(msg=str(exc), **result)
            if reason is None and cf_signature(rendered) != cf_signature(cf_text):
                reason = 'the .cf differs from a fresh build of the .mc'
        if reason and rendered is not None:
            result['cf_changed'] = True
            result['cf_reason'] = reason
            result['cf_changes'] = option_changes(cf_text, rendered)

    result['changed'] = result['mc_changed'] or result['cf_changed']
    if module._diff:
        result['diff'] = [{'before_header': mc_path, 'after_header': mc_path, 'before': old_text, 'after': new_text}]
        if result['cf_changes']:
            result['diff'].append(cf_diff(cf_path, result['cf_changes']))

    if not result['cf_changed']:
        if result['mc_changed'] and not module.check_mode:
            if module.params['backup']:
                result['backup_file'] = module.backup_local(mc_path)
            write_mc(module, mc_path, new_text)
        module.exit_json(**result)

    backup = module.backup_local if module.params['backup'] else None
    written = []

    def write_new_mc():
        if result['mc_changed']:
            if backup is not None:
                result['backup_file'] = backup(mc_path)
            write_mc(module, mc_path, new_text)
            written.append(mc_path)

    try:
        built = build_cf(new_text, mc_path, cf_path, runner, m4=m4, sendmail=sendmail, rendered=rendered,
                         install=not module.check_mode, workdir=module.tmpdir if module.check_mode else None,
                         backup=backup, before_install=write_new_mc)
    except (BuildError, OSError) as exc:
        if written:
            write_mc(module, mc_path, old_text)
            os.utime(mc_path, ns=(mc_st.st_atime_ns, mc_st.st_mtime_ns))
        message = str(exc) if isinstance(exc, BuildError) else 'Could not install %s: %s; nothing was changed.' % (
            cf_path, exc.strerror or exc)
        module.fail_json(msg=message, **result)
    if built['installed']:
        if built['backup_file']:
            result['cf_backup_file'] = built['backup_file']
        # The candidate was written before the .mc: keep the .cf from looking older than its source.
        now = max(time.time_ns(), os.stat(mc_path).st_mtime_ns)
        os.utime(cf_path, ns=(now, now))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
