# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _read_privdrop
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_privdrop import (
    method_works, probe, run_in_child, run_steps, seteuid_steps, setreuid_steps,
)

NOBODY = pwd.getpwnam('nobody').pw_uid
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='the live probe needs root')


class FakeKernel:
    """Real/effective/saved uids with POSIX rules; ``keep_saved`` breaks seteuid like an old kernel."""

    def __init__(self, real, effective, saved, keep_saved=True):
        self.ids = [real, effective, saved]
        self.keep_saved = keep_saved

    def getuid(self):
        return self.ids[0]

    def geteuid(self):
        return self.ids[1]

    def seteuid(self, euid):
        if self.ids[1] != 0 and euid not in (self.ids[0], self.ids[2] if self.keep_saved else None):
            raise OSError(1, 'Operation not permitted')
        self.ids[1] = euid

    def setreuid(self, ruid, euid):
        real, effective, saved = self.ids
        privileged = effective == 0
        if ruid != -1 and not privileged and ruid not in (real, effective):
            raise OSError(1, 'Operation not permitted')
        if euid != -1 and not privileged and euid not in (real, effective, saved):
            raise OSError(1, 'Operation not permitted')
        new_real = real if ruid == -1 else ruid
        new_effective = effective if euid == -1 else euid
        if ruid != -1 or (euid != -1 and euid != real):
            saved = new_effective
        self.ids = [new_real, new_effective, saved]


def test_sequences_follow_sendmails_tests():
    assert setreuid_steps(65534, 1, 2)[:3] == [
        ('setreuid', (0, 1), (0, 1)),
        ('setreuid', (-1, 0), (0, 0)),
        ('setreuid', (65534, 0), (65534, 0)),
    ]
    assert len(setreuid_steps(65534, 1, 2)) == 6
    assert seteuid_steps(65534, 1, 2) == [
        ('seteuid', (1,), (65534, 1)),
        ('seteuid', (0,), (65534, 0)),
        ('seteuid', (2,), (65534, 2)),
        ('seteuid', (0,), (65534, 0)),
    ]


def test_posix_fake_kernel_passes_both():
    assert run_steps(setreuid_steps(100, 1, 2), FakeKernel(100, 0, 0)) is None
    assert run_steps(seteuid_steps(100, 1, 2), FakeKernel(100, 0, 0)) is None


def test_kernel_without_saved_uid_fails_seteuid():
    failure = run_steps(seteuid_steps(100, 1, 2), FakeKernel(100, 0, 0, keep_saved=False))
    assert failure == 'seteuid(0) failed: Operation not permitted'


def test_wrong_ids_are_reported():
    class Liar(FakeKernel):
        def getuid(self):
            return 7
    failure = run_steps(setreuid_steps(100, 1, 2), Liar(100, 0, 0))
    assert failure == 'setreuid(0, 1) left real/effective uid 7/1, expected 0/1'


def test_run_in_child_returns_the_dict_and_catches_errors():
    assert run_in_child(lambda: {'pid_differs': os.getpid()}) != {'pid_differs': os.getpid()}
    assert 'ZeroDivisionError' in run_in_child(lambda: 1 // 0)['error']


def test_not_root(monkeypatch):
    monkeypatch.setattr(_read_privdrop.os, 'geteuid', lambda: 1000)
    report = probe(NOBODY)
    assert report == {
        'probed': False, 'reason': 'the probe needs root (effective uid is 1000)',
        'setreuid_ok': None, 'seteuid_ok': None, 'failed_step': None,
    }


def test_root_probe_user_is_refused():
    assert probe(0)['probed'] is False


@needs_root
def test_live_kernel_passes_both_tests():
    report = probe(NOBODY)
    assert report == {'probed': True, 'reason': None, 'setreuid_ok': True, 'seteuid_ok': True, 'failed_step': None}
    # the caller keeps its ids
    assert (os.getuid(), os.geteuid()) == (0, 0)


@needs_root
def test_live_not_root_in_a_dropped_child():
    def as_nobody():
        os.setresuid(NOBODY, NOBODY, NOBODY)
        return probe(NOBODY)
    report = run_in_child(as_nobody)
    assert report['probed'] is False
    assert report['reason'] == 'the probe needs root (effective uid is %d)' % NOBODY


@pytest.mark.parametrize('method, kernel, expected', [
    ('seteuid', {'probed': True, 'seteuid_ok': True, 'setreuid_ok': False}, True),
    ('setreuid', {'probed': True, 'seteuid_ok': True, 'setreuid_ok': False}, False),
    ('setuid', {'probed': True, 'seteuid_ok': False, 'setreuid_ok': False}, True),
    ('seteuid', {'probed': False}, None),
])
def test_method_works(method, kernel, expected):
    assert method_works(method, kernel) is expected
