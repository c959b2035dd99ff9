# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import shutil

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_info

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures')


def run_module(capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit):
        sendmail_info.main()
    return json.loads(capsys.readouterr().out)


def fake_sendmail(tmp_path, release='bookworm', text=None):
    """A program printing the release's -d0.10 output, its config paths moved under tmp_path."""
    if text is None:
        with open(os.path.join(FIXTURES, release, 'd0.10.txt'), encoding='utf-8') as handle:
            text = handle.read().replace('/etc/mail/', '%s/' % tmp_path)
    (tmp_path / 'd0.txt').write_text(text)
    program = tmp_path / 'sendmail'
    program.write_text('#!/bin/sh\ncat >/dev/null\ncat "%s"\n' % (tmp_path / 'd0.txt'))
    program.chmod(0o755)
    return str(program)


def test_host_without_sendmail(capsys, tmp_path):
    result = run_module(capsys, {'binary': str(tmp_path / 'sendmail')})
    assert result['installed'] is False
    assert result['changed'] is False
    assert result['reason'] == '%s does not exist' % (tmp_path / 'sendmail')
    assert result['kernel']['probed'] is False
    assert result['settings'] == {'mta': None, 'msp': None}


def test_other_mta_binary(capsys, tmp_path):
    program = fake_sendmail(tmp_path, text='sendmail: unsupported option -d0.10\n')
    result = run_module(capsys, {'binary': program})
    assert result['installed'] is False
    assert 'did not answer -d0.10 like sendmail' in result['reason']


def test_binary_that_cannot_run(capsys, tmp_path):
    program = tmp_path / 'sendmail'
    program.write_text('not a program')
    result = run_module(capsys, {'binary': str(program)})
    assert result['installed'] is False
    assert result['reason'].startswith('could not run %s: ' % program)


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_debian_release(capsys, tmp_path, release):
    program = fake_sendmail(tmp_path, release)
    for name in ('sendmail.cf', 'submit.cf'):
        shutil.copy(os.path.join(FIXTURES, release, name), str(tmp_path / name))
    result = run_module(capsys, {'binary': program, 'probe_kernel': False})
    assert result['installed'] is True
    assert result['drop_method'] == 'seteuid'
    assert result['uses_seteuid'] is True
    assert result['has_setreuid'] is True
    assert result['mta_config'] == str(tmp_path / 'sendmail.cf')
    assert result['settings']['mta']['TrustedUser'] == 'smmta'
    assert result['settings']['msp']['RunAsUser'] == 'smmsp'
    assert result['kernel'] == {
        'probed': False, 'reason': 'probe_kernel is false', 'setreuid_ok': None, 'seteuid_ok': None, 'failed_step': None,
    }
    assert result['method_works'] is None
    assert result['config_errors'] == []


def test_unreadable_and_corrupt_configs_warn(capsys, tmp_path):
    program = fake_sendmail(tmp_path)
    (tmp_path / 'sendmail.cf').write_bytes(b'\x00\xff garbage\nnot a config\n')
    result = run_module(capsys, {'binary': program, 'probe_kernel': False})
    assert result['installed'] is True
    assert result['settings'] == {'mta': None, 'msp': None}
    assert [error['role'] for error in result['config_errors']] == ['mta', 'msp']
    assert 'not a sendmail configuration' in result['config_errors'][0]['error']
    # one warning per configuration (modules run earlier in this process may have left theirs)
    assert len([item for item in result['warnings'] if str(tmp_path) in str(item)]) == 2


@pytest.mark.skipif(os.geteuid() != 0, reason='the live probe needs root')
def test_kernel_probe_runs_as_root(capsys, tmp_path):
    result = run_module(capsys, {'binary': fake_sendmail(tmp_path)})
    assert result['kernel']['probed'] is True
    assert result['method_works'] is True


def test_unknown_probe_user(capsys, tmp_path):
    result = run_module(capsys, {'binary': fake_sendmail(tmp_path), 'probe_user': 'no-such-user-here'})
    assert result['kernel']['reason'] == 'probe_user no-such-user-here does not exist'
