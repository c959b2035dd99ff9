# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sendmail_audit_report on the controller: the reports are written where ansible-playbook runs, in its own
process. Nothing is shipped to a host; with ``result_var`` the play's results are read from the hosts'
registered variables here, once, instead of a template looping over hostvars."""

from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import ReportError
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import (
    ARGUMENT_SPEC, SOURCES, diff_of, play_results, prepare, report_inputs,
)


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` next to ``path`` under a temporary name, then rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix='.report-', dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ActionModule(ActionBase):
    """Write the audit reports on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def _results(self, params: dict, task_vars: dict) -> list:
        hostvars = task_vars['hostvars']
        name = params['result_var']

        def result_of(host: str):
            value = hostvars[host].get(name)
            return value if isinstance(value, dict) else None

        def address_of(host: str):
            address = hostvars[host].get('ansible_host')
            return address if isinstance(address, str) else None

        return play_results(task_vars.get('ansible_play_hosts_all') or [], task_vars.get('ansible_play_hosts') or [],
                            result_of, address_of)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _spec, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_one_of=[SOURCES],
                                                    mutually_exclusive=[SOURCES])
        dest = params['dest']
        if os.path.lexists(dest) and not os.path.isdir(dest):
            raise AnsibleActionFail('dest %s exists and is not a directory; give the directory the reports go to.' % dest)
        try:
            results, merged, generated_at = report_inputs(params, lambda: self._results(params, task_vars or {}))
            done, contents = prepare(results, dest, params['formats'], params['baseline'], generated_at,
                                     params['collection_version'], params['compare_with'], merged)
        except ReportError as exc:
            raise AnsibleActionFail('The results cannot be reported: %s.' % exc) from exc
        if self._task.diff:
            done['diff'] = diff_of(done)
        del done['_summary']
        if done['written'] and not self._task.check_mode:
            try:
                os.makedirs(dest, exist_ok=True)
                for path in done['written']:
                    write_file(path, contents[path])
            except OSError as exc:
                raise AnsibleActionFail('Could not write the reports in %s: %s; check the directory and its space.'
                                        % (dest, to_native(exc))) from exc
        result.update(done, changed=bool(done['written']))
        return result
