# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Does this kernel change user ids the way sendmail's compile-time method expects?

Replays the checks of sendmail's test/t_setreuid.c and test/t_seteuid.c in a
throw-away forked child, so the caller's own ids never change.
"""

from __future__ import annotations

import json
import os
import traceback

# The two uids sendmail's tests switch to, standing for two local recipients.
TARGET_UIDS = (1, 2)


def setreuid_steps(real: int, first: int, second: int) -> list:
    """t_setreuid: give away real and effective root, then take it back, twice.

    Each step is (function name, arguments, expected (real uid, effective uid)).
    """
    steps = []
    for target in (first, second):
        steps += [
            ('setreuid', (0, target), (0, target)),
            ('setreuid', (-1, 0), (0, 0)),
            ('setreuid', (real, 0), (real, 0)),
        ]
    return steps


def seteuid_steps(real: int, first: int, second: int) -> list:
    """t_seteuid: switch only the effective uid and get root back through the saved uid."""
    steps = []
    for target in (first, second):
        steps += [
            ('seteuid', (target,), (real, target)),
            ('seteuid', (0,), (real, 0)),
        ]
    return steps


def run_steps(steps: list, ops=os) -> str | None:
    """Run the steps, checking real and effective uid after each; the first failure, or None."""
    for name, args, expected in steps:
        call = '%s(%s)' % (name, ', '.join(str(arg) for arg in args))
        try:
            getattr(ops, name)(*args)
        except OSError as exc:
            return '%s failed: %s' % (call, exc.strerror or exc)
        got = (ops.getuid(), ops.geteuid())
        if got != expected:
            return '%s left real/effective uid %d/%d, expected %d/%d' % ((call,) + got + expected)
    return None


def run_in_child(func) -> dict:
    """Run ``func`` in a forked child and return the dict it returns (sent back as JSON)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(reader)
        try:
            payload = json.dumps(func())
        except BaseException:  # pylint: disable=broad-exception-caught
            # Anything raised must end here: the child may never return into the caller.
            payload = json.dumps({'error': traceback.format_exc(limit=1).strip()})
        try:
            os.write(writer, payload.encode('utf-8'))
        finally:
            os._exit(0)
    os.close(writer)
    chunks = []
    with os.fdopen(reader, 'rb') as pipe:
        for chunk in iter(lambda: pipe.read(65536), b''):
            chunks.append(chunk)
    os.waitpid(pid, 0)
    try:
        return json.loads(b''.join(chunks).decode('utf-8'))
    except ValueError:
        return {'error': 'the probe process ended without reporting'}


def _replay(steps: list, real: int):
    """Child side: reach the state of a set-user-ID root program run by ``real``, then replay."""
    def child():
        os.setresuid(real, 0, 0)
        return {'failed_step': run_steps(steps)}
    return child


def _one_test(name: str, steps: list, real: int) -> str | None:
    """Run one sendmail test in its own child; the failure text, or None."""
    outcome = run_in_child(_replay(steps, real))
    failure = outcome.get('failed_step') or outcome.get('error')
    return '%s: %s' % (name, failure) if failure else None


def not_run(reason: str) -> dict:
    """The report when the probe is not run."""
    return {'probed': False, 'reason': reason, 'setreuid_ok': None, 'seteuid_ok': None, 'failed_step': None}


def probe(real: int, targets: tuple = TARGET_UIDS) -> dict:
    """Replay both sendmail tests with ``real`` as the invoking user; needs root."""
    if not hasattr(os, 'setresuid'):
        return not_run('this platform has no setresuid() to reach the tests\' starting state')
    if os.geteuid() != 0:
        return not_run('the probe needs root (effective uid is %d)' % os.geteuid())
    if real == 0:
        return not_run('the probe user must not be root')
    reuid = _one_test('t_setreuid', setreuid_steps(real, *targets), real)
    euid = _one_test('t_seteuid', seteuid_steps(real, *targets), real)
    failures = [failure for failure in (reuid, euid) if failure]
    return {
        'probed': True,
        'reason': None,
        'setreuid_ok': reuid is None,
        'seteuid_ok': euid is None,
        'failed_step': '; '.join(failures) or None,
    }


def method_works(method: str, kernel: dict) -> bool | None:
    """Whether the kernel passed the test for the compiled method; None when not probed."""
    if not kernel.get('probed'):
        return None
    if method == 'setuid':
        # Giving up root for good needs no saved or swappable uid.
        return True
    return bool(kernel.get('%s_ok' % method))
