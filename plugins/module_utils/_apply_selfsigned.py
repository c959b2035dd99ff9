# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The ``self_signed`` fix kind: a self-signed certificate and its key, made where the user asked for one.

openssl writes the pair into a directory of its own that only root can enter; the files are then created in
their place (a directory only root writes to, never through a link nor over a file that is there) with their
owner and mode set before the first byte: the key the MTA user's, 0600, the certificate root's, 0644.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_safefs import UnsafePath, create_file, remove_entry

# The files the step makes: (key of the step's ``after``, owner key or a fixed owner, group, mode).
MADE = (('key', None, None, '0600'), ('cert', 'root', 'root', '0644'))


def _paths(item: dict) -> list:
    return [item['after']['key'], item['after']['cert']]


def probe(item: dict, parent_fixed: bool) -> str | None:
    """Why a real run would refuse the step; None when it would not."""
    after = item['after']
    if not after.get('openssl'):
        return 'no openssl program on this host to make a self-signed certificate with'
    for name, owner, group, mode in MADE:
        try:
            create_file(after[name], b'', owner or after['owner'], group or after['group'], mode, check_mode=True,
                        parent_fixed=parent_fixed)
        except (UnsafePath, ValueError) as exc:
            return str(exc).rstrip('.')
        except OSError as exc:
            return '%s: %s' % (after[name], exc.strerror or exc)
    return None


def make_pair(item: dict, run) -> dict:
    """Carry out the step: ``changed``, ``refused``, ``error``."""
    refused = probe(item, parent_fixed=False)
    if refused:
        return {'changed': False, 'refused': refused, 'error': None}
    after = item['after']
    work = tempfile.mkdtemp(prefix='mailsec-tls-')  # 0700, root's: nobody else sees the key being written
    try:
        made = {name: os.path.join(work, name) for name, _owner, _group, _mode in MADE}
        rc, out, err = run([after['openssl'], 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', made['key'],
                            '-out', made['cert'], '-days', str(after['days']), '-subj', after['subject']])
        if rc != 0:
            return {'changed': False, 'refused': None,
                    'error': 'openssl req exited %d: %s' % (rc, (err or out).strip() or 'no message')}
        done = []
        try:
            for name, owner, group, mode in MADE:
                with open(made[name], 'rb') as handle:
                    create_file(after[name], handle.read(), owner or after['owner'], group or after['group'], mode)
                done.append(after[name])
        except (OSError, UnsafePath, ValueError) as exc:
            for path in done:
                remove_entry(path)
            return {'changed': False, 'refused': None, 'error': '%s' % (getattr(exc, 'strerror', None) or exc)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {'changed': True, 'refused': None, 'error': None}


def undo(item: dict) -> str | None:
    """Remove the pair the step made; a file that is no longer a regular file is left, and said."""
    errors = []
    for path in _paths(item):
        try:
            if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
                errors.append('%s is no longer the file the hardening made; left in place' % path)
                continue
            remove_entry(path)
        except (OSError, UnsafePath) as exc:
            errors.append('%s: %s' % (path, getattr(exc, 'strerror', None) or exc))
    return '; '.join(errors) or None


def still(item: dict) -> bool:
    return all(os.path.isfile(path) and not os.path.islink(path) for path in _paths(item))
