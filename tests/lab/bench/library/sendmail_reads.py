# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit benchmark's floor: everything sendmail_drift reads on a host, in one call, and nothing more.

It runs the same reader (sendmail -d0.10, both .cf files, m4 of both .mc files, lstat of every path,
the queues, the set-id files, the statoverrides, the kernel probe) and returns only how much it read:
no judging, no findings, no role around it.
"""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import read_host, sendmail_runner
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import CONTROLS


def main() -> None:
    module = AnsibleModule(argument_spec={'binary': {'type': 'path', 'default': '/usr/sbin/sendmail'}}, supports_check_mode=True)
    _family, state = read_host(sendmail_runner(module), list(CONTROLS), module.params['binary'], None, {},
                               m4=module.get_bin_path('m4'))
    module.exit_json(changed=False, paths=len(state['paths']), installed=state['installed'])


if __name__ == '__main__':
    main()
