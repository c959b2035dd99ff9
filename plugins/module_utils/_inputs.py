# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""What is wrong with the roles' input, judged on the controller before any host is read.

Ansible's argument specs convert before they check (a string becomes a list of its comma-separated
words, ``true`` becomes ``'True'``) but leave the variable as it was, so the tasks meet the
unconverted value. These checks see what the tasks will see, and say in one sentence per problem
which variable is wrong and what it expects. The same rules the modules apply to their options
(``selection_errors``, ``override_errors``, ``waiver_errors``) apply here, so a role never gets as far
as a host, or as writing a report, with input a module would refuse.
"""

from __future__ import annotations

import re

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, override_errors, unknown_selectors
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import waiver_errors

# A word that means to name a control: the catalogue's ids are SM-<FAMILY>-<NN>.
ID_LIKE = re.compile(r'(?i)^sm-')
WAIVER_KEYS = ('id', 'hosts', 'reason', 'expires')
_USER = re.compile(r'^[^:\s]+(:[^:\s]+)?$')


def words(value) -> list | None:
    """A list of words as the roles take it: a list of strings, or one string of comma-separated words
    (as Ansible's ``list`` type reads it); None when ``value`` is neither."""
    if isinstance(value, str):
        return [word.strip() for word in value.split(',') if word.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(word, str) for word in value):
        return list(value)
    return None


def _kind(value) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean (%s)' % str(value).lower()
    if isinstance(value, (int, float)):
        return 'a number (%s)' % value
    if isinstance(value, dict):
        return 'a dict'
    if isinstance(value, (list, tuple)):
        return 'a list'
    return 'a %s' % type(value).__name__


def unknown_ids(tags) -> list:
    """The words of ``tags`` that look like a control id (SM-...) but name none, in their order."""
    return [word for word in tags or () if isinstance(word, str) and ID_LIKE.match(word) and word not in BY_ID]


def tag_errors(run_tags, skip_tags) -> list:
    """--tags or --skip-tags words that look like control ids but name none: a typo would otherwise select
    nothing, or skip nothing, without a word."""
    errors = []
    for option, given in (('--tags', run_tags), ('--skip-tags', skip_tags)):
        unknown = unknown_ids(given)
        if unknown:
            errors.append('%s names %s, which is no control id (docs/controls.md lists them)' % (option, ', '.join(unknown)))
    return errors


def selector_errors(name: str, value) -> list:
    """A list of control ids, families or tags."""
    given = words(value)
    if given is None:
        return ['%s must be a list of control ids, families or tags, not %s' % (name, _kind(value))]
    unknown = unknown_selectors(given)
    if unknown:
        return ['%s names %s, which is no control id, family or tag' % (name, ', '.join(unknown))]
    return []


def expected_errors(name: str, value) -> list:
    if not isinstance(value, dict):
        return ['%s must be a dict of control ids, not %s' % (name, _kind(value))]
    return [error.replace('expected', name, 1) for error in override_errors(value)]


def waivers_errors(name: str, value) -> list:
    """A list of waivers, each a dict of id, hosts, reason and expires."""
    if not isinstance(value, (list, tuple)):
        return ['%s must be a list of waivers (dicts of id, reason, expires, hosts), not %s' % (name, _kind(value))]
    errors = []
    for number, waiver in enumerate(value, start=1):
        if not isinstance(waiver, dict):
            errors.append('%s: waiver %d must be a dict of id, reason, expires and hosts, not %s' % (name, number, _kind(waiver)))
            continue
        extra = sorted(str(key) for key in waiver if key not in WAIVER_KEYS)
        if extra:
            errors.append('%s: waiver %d (%s) has no key %s (known: %s)'
                          % (name, number, waiver.get('id'), ', '.join(extra), ', '.join(WAIVER_KEYS)))
    if errors:
        return errors
    return ['%s: %s' % (name, error) for error in waiver_errors(value, BY_ID)]


def run_as_errors(name: str, value) -> list:
    """RunAsUser as the hardening role takes it: null, '' or user[:group]."""
    if value is None or value == '':
        return []
    if not isinstance(value, str):
        return ["%s must be a user or user:group (or '' to leave RunAsUser alone, null for the distribution's MTA user), not %s"
                % (name, _kind(value))]
    if not _USER.match(value):
        return ['%s must be a user or user:group, not %r' % (name, value)]
    return []


# Which check each role variable gets; a variable not named here is left to the argument spec.
CHECKS = {
    'audit': {
        'sendmail_audit_include': selector_errors,
        'sendmail_audit_exclude': selector_errors,
        'sendmail_audit_expected': expected_errors,
        'sendmail_audit_waivers': waivers_errors,
    },
    'hardening': {
        'sendmail_hardening_run_as_user': run_as_errors,
        'sendmail_hardening_exclude': selector_errors,
        'sendmail_hardening_expected': expected_errors,
        'sendmail_hardening_waivers': waivers_errors,
    },
}


def role_input_errors(role: str, values: dict, run_tags=(), skip_tags=()) -> list:
    """Every problem of a role's variables and of the tags given, one sentence each; empty when all is right."""
    checks = CHECKS[role]
    errors = []
    for name, check in checks.items():
        if name in values:
            errors.extend(check(name, values[name]))
    return errors + tag_errors(run_tags, skip_tags)
