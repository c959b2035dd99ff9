# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps the audit and the hardening share: check the selection, read the host once and judge
the selected controls. Private to the mailsec.sendmail collection; not for use by other collections.

sendmail_drift stops there; sendmail_harden goes on to fix what fails. Both go through these
functions, so the two can never judge a host differently.
"""

from __future__ import annotations

import os

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    BY_ID, expected_for, fix_actions, override_errors, unknown_selectors,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import collect, read_os


def selection_errors(include: list, exclude: list, overrides: dict) -> list:
    """Every problem of the include, exclude and expected options, one sentence each."""
    errors = []
    for option, words in (('include', include), ('exclude', exclude)):
        unknown = unknown_selectors(words)
        if unknown:
            errors.append('%s names %s, which is no control id, family or tag' % (option, ', '.join(unknown)))
    return errors + override_errors(overrides)


def statoverride_paths(controls: list, os_family: str, overrides: dict) -> list:
    """The paths SM-STATOVR-01 compares, so that their existence is read with the rest."""
    paths = []
    for control in controls:
        if control['evaluator'] == 'statoverride':
            paths.extend(expected_for(control, os_family, overrides.get(control['id']))['entries'])
    return paths


def named_file_paths(controls: list, os_family: str, overrides: dict) -> list:
    """The files a fix would name in an option only where they exist (``must_exist``), so that they are read too."""
    paths = []
    for control in controls:
        for action in fix_actions(control, expected_for(control, os_family, overrides.get(control['id']))):
            if action.get('must_exist') and action.get('value'):
                paths.append(action['value'])
    return paths


def sendmail_runner(module):
    """Runs sendmail, m4 and dpkg-statoverride: ``run(argv, data=None, cwd=None) -> (rc, out, err)``.

    Without data a command reads /dev/null, where sendmail -bt finds its end at once. Writing even a
    blank line to a command that exits before reading it (sendmail -bv, dpkg-statoverride) fails
    with EPIPE now and then, and run_command with it; without data run_command writes nothing and the
    command inherits the module's stdin, which is therefore /dev/null from here on.
    """
    stdin_from_devnull()

    def run(argv, data=None, cwd=None):
        return module.run_command(argv, data=data or None, binary_data=True, cwd=cwd,
                                  errors='surrogate_or_replace', expand_user_and_vars=False, handle_exceptions=False)
    return run


def stdin_from_devnull() -> None:
    """The module's stdin, read by nothing once the module has its arguments, becomes /dev/null."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, 0)
    finally:
        os.close(devnull)


# The evaluators whose fixes depend on the users' .forward files: what they name and what they run.
FORWARD_READERS = ('forward_path', 'prog_mailer', 'smrsh_programs')
# The evaluators that read the certificates' expiry and what the daemons offer over the wire.
TRANSIT_READERS = ('starttls', 'certificate_expiry', 'tls_floor', 'auth_plaintext')
# The controls that need to know what RunAsUser breaks: the one that sets it, and the one that judges the cost.
IMPACT_CONTROLS = ('SM-RUNAS-01', 'SM-RUNAS-02')


def impact_request(controls: list, os_family: str, overrides: dict) -> dict | None:
    """The RunAsUser whose impact the state must hold where none is set: the one SM-RUNAS-01 would set;
    None when no selected control needs it."""
    if not any(control['id'] in IMPACT_CONTROLS for control in controls):
        return None
    expected = expected_for(BY_ID['SM-RUNAS-01'], os_family, overrides.get('SM-RUNAS-01'))
    return {'user': expected.get('user'), 'group': expected.get('group')}


def expected_values(controls: list, os_family: str, overrides: dict) -> dict:
    """Control id -> its expected value on this OS family, with the user's overrides."""
    return {c['id']: expected_for(c, os_family, overrides.get(c['id'])) for c in controls}


def read_host(run, controls: list, binary: str, os_family: str | None, overrides: dict, probe_kernel: bool = True,
              m4: str | None = None, cf_sources: bool | None = None, openssl: str | None = None, rpm: str | None = None) -> tuple:
    """(OS family, state) of the host: everything the selected controls read, read once.

    The .cf files are compared with their .mc builds when ``cf_sources`` says so (None: when a
    selected control judges that). ``openssl`` and ``rpm``: their paths, None where the host has none (as ``m4``).
    """
    family = os_family or read_os()['family']
    if cf_sources is None:
        cf_sources = any(control['evaluator'] == 'cf_source' for control in controls)
    state = collect(run, binary, probe_kernel=probe_kernel, os_family=family, m4=m4, cf_sources=cf_sources,
                    extra_paths=statoverride_paths(controls, family, overrides) + named_file_paths(controls, family, overrides),
                    impact=impact_request(controls, family, overrides),
                    forwards=any(control['evaluator'] in FORWARD_READERS for control in controls),
                    transit=any(control['evaluator'] in TRANSIT_READERS for control in controls), openssl=openssl,
                    rpm=rpm)
    return family, state
