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
  - The C(.cf) is rebuilt when the C(.mc) changes, when the C(.cf) is missing or older than the C(.mc), or when any of
    its lines (comments and blank lines aside) differs from a fresh build of the C(.mc). Lines of the installed C(.cf)
    that the rebuild does not make (hand edits) are listed in RV(cf_dropped) and warned about; to keep them, carry them
    into the C(.mc), or let M(mailsec.sendmail.sendmail_harden) edit the C(.cf) in place.
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
cf_dropped:
  description:
    - Lines of the installed C(.cf) (with their line numbers) that the rebuild does not make, comments and blank lines
      aside; hand edits that the new C(.cf) loses. Each is also warned about.
  returned: always
  type: list
  elements: dict
  sample: [{line: 120, text: O MaxMessageSize=5000000}]
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import sendmail_runner
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_cfbuild import BuildError, check, commit, prepare, read_pair
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import McError, remove_define, remove_feature, set_define, set_feature
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import MC_FILES, places

SENDMAIL_DIRS = list(places('program_dirs'))


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


def cf_reason(change: dict) -> str | None:
    """Why the .cf is rebuilt; None when it is not."""
    if not change['cf_changed']:
        return None
    if change['mc_changed']:
        return 'the .mc changed'
    if change['cf_text'] is None:
        return 'the .cf does not exist'
    if change['cf_stat'].st_mtime_ns < change['mc_stat'].st_mtime_ns:
        return 'the .cf is older than the .mc'
    return 'the .cf differs from a fresh build of the .mc'


class McFile:
    """The module's work on one .mc and its .cf, in the shared pipeline of _apply_cfbuild."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.mc = module.params['path']
        self.cf = module.params['cf'] or default_cf(self.mc)
        self.run = sendmail_runner(module)
        self.result = {'changed': False, 'path': self.mc, 'cf': self.cf, 'mc_changed': False, 'cf_changed': False,
                       'cf_reason': None, 'defines_changed': [], 'features_changed': [], 'cf_changes': {}, 'cf_dropped': []}

    def write_mc(self, path: str, text: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix='sendmail_mc.', dir=self.module.tmpdir)
        with os.fdopen(fd, 'w', encoding='utf-8', errors='surrogateescape') as handle:
            handle.write(text)
        self.module.atomic_move(tmp, path)

    def change(self) -> dict:
        """Read, edit the .mc and (with build) rebuild the .cf in memory; BuildError or McError say why not."""
        pair = read_pair(self.cf, self.mc)
        if pair['mc_text'] is None:
            raise BuildError('%s does not exist: give the path of the sendmail .mc file.' % self.mc)
        new, self.result['defines_changed'], self.result['features_changed'] = edit_mc(
            pair['mc_text'], self.params['defines'] or {}, self.params['features'] or {})
        if not self.params['build']:
            return dict(pair, source='mc', mc_new=new, cf_new=None, mc_changed=new != pair['mc_text'], cf_changed=False,
                        cf_changes={}, dropped=[])
        m4 = self.module.get_bin_path('m4')
        if m4 is None:
            fresh = pair['cf_stat'] is not None and pair['cf_stat'].st_mtime_ns >= pair['mc_stat'].st_mtime_ns
            if new == pair['mc_text'] and fresh:
                self.module.warn('m4 is not installed: could not compare %s with a fresh build of %s.' % (self.cf, self.mc))
                return dict(pair, source='mc', mc_new=new, cf_new=None, mc_changed=False, cf_changed=False, cf_changes={},
                            dropped=[])
            raise BuildError('Cannot rebuild %s: m4 is not installed; install it (and the sendmail-cf files), nothing was '
                             'changed.' % self.cf)
        return prepare(pair, 'mc', new, {}, self.run, m4)

    def apply(self, change: dict) -> None:
        sendmail = self.module.get_bin_path('sendmail', opt_dirs=SENDMAIL_DIRS)
        if change['cf_changed'] and sendmail is None:
            raise BuildError('Cannot check the new %s: sendmail is not installed; nothing was changed.' % self.cf)
        if self.module.check_mode:
            check(change, self.run, sendmail, self.module.tmpdir)
            return
        try:
            backups = commit(change, self.run, sendmail, self.write_mc, backup=self.module.backup_local if self.params['backup'] else None)
        except OSError as exc:
            raise BuildError('Could not install %s: %s; nothing was changed.' % (self.cf, exc.strerror or exc)) from exc
        mc_copies = [item for item in backups if os.path.basename(item).startswith(os.path.basename(self.mc))]
        cf_copies = [item for item in backups if item not in mc_copies]
        if mc_copies:
            self.result['backup_file'] = mc_copies[0]
        if cf_copies:
            self.result['cf_backup_file'] = cf_copies[0]

    def diff(self, change: dict) -> list:
        entries = [{'before_header': self.mc, 'after_header': self.mc, 'before': change['mc_text'], 'after': change['mc_new']}]
        if change['cf_changes']:
            def lines(side):
                return ''.join('O %s=%s\n' % (name, value) for name in sorted(change['cf_changes'])
                               for value in change['cf_changes'][name][side])
            label = '%s (options)' % self.cf
            entries.append({'before_header': label, 'after_header': label, 'before': lines('before'), 'after': lines('after')})
        return entries


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'path': {'type': 'path', 'default': MC_FILES['mta']},
            'defines': {'type': 'dict', 'default': {}},
            'features': {'type': 'dict', 'default': {}},
            'cf': {'type': 'path'},
            'build': {'type': 'bool', 'default': True},
            'backup': {'type': 'bool', 'default': False},
        },
        supports_check_mode=True,
    )
    work = McFile(module)
    if work.cf is None:
        module.fail_json(msg='%s does not end in .mc: set cf to the .cf file to build from it.' % work.mc)
    result = work.result
    try:
        change = work.change()
        result.update(mc_changed=change['mc_changed'], cf_changed=change['cf_changed'], cf_reason=cf_reason(change),
                      cf_changes=change['cf_changes'], cf_dropped=change['dropped'])
        result['changed'] = change['mc_changed'] or change['cf_changed']
        for item in change['dropped']:
            module.warn('The rebuild of %s drops line %d, which its .mc does not make: %s' % (work.cf, item['line'], item['text']))
        work.apply(change)
    except McError as exc:
        module.fail_json(msg='Cannot change %s: %s.' % (work.mc, exc), **result)
    except BuildError as exc:
        result['changed'] = False
        module.fail_json(msg=str(exc), **result)
    except OSError as exc:
        result['changed'] = False
        module.fail_json(msg='Cannot change %s: %s; nothing was changed.' % (exc.filename or work.mc, exc.strerror or exc), **result)
    if module._diff:
        result['diff'] = work.diff(change)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
