# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Judging the controls: pure functions from a collected host state and expected values to findings.

Nothing here reads the host: ``_read_state.collect`` gathers the state (a JSON-like dict), and each
evaluator gets ``(control, expected, state)`` and returns status, actual, path and evidence.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    STATUSES, SYSLOG_CONFIGS, applies_to, describe_expected, forward_dropped, forward_entries, greeting_leaks, interpreter_name,
    number_in_force, privacy_missing, references, within_bound,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import run_as_parts
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan_listen import daemons, problem
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_runas_impact import items_text
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_smtp import accepted, evidence as wire_text
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_tls import (
    auth_words, cipher_problems, plaintext_mechanisms, ssl_floor_missing,
)


def _octal(text) -> int:
    return int(str(text or '0'), 8)


def entry_text(entry: dict) -> str:
    """One path as evidence: 'lstat /etc/mail: smmta:smmsp 2755', a link and its target, or why it is absent."""
    if entry.get('error'):
        return 'lstat %s: %s' % (entry['path'], entry['error'])
    if not entry.get('exists'):
        return 'lstat %s: absent' % entry['path']
    if entry.get('type') == 'link':
        text = 'lstat %s: symlink -> %s (%s:%s)' % (entry['path'], entry.get('link'), entry['owner'], entry['group'])
        target = entry.get('target')
        if target:
            text += '; followed: ' + entry_text(target).replace('lstat ', 'stat ', 1)
        return text
    return 'lstat %s: %s:%s %s%s' % (entry['path'], entry['owner'], entry['group'], entry['mode'],
                                     '' if entry.get('type') in ('file', 'dir') else ' (%s)' % entry.get('type'))


def _settings(state: dict, role: str) -> dict:
    return (state.get('configs', {}).get(role) or {}).get('settings') or {}


def _account(state: dict, token: str | None):
    if not token:
        return None
    return state.get('accounts', {}).get(token)


def owner_names(state: dict, owners: list, role: str = 'mta') -> list:
    """Allowed owner names, with @RunAsUser / @TrustedUser replaced by the MTA's users (dropped when unset; with
    ``role`` msp, @RunAsUser is the RunAsUser of submit.cf), and @MTAUser by the user the MTA runs as: RunAsUser when
    set, else root."""
    names = []
    mta = _settings(state, 'mta')
    tokens = {'@RunAsUser': run_as_parts(_settings(state, role).get('RunAsUser'))[0], '@TrustedUser': mta.get('TrustedUser')}
    mta_user = run_as_parts(mta.get('RunAsUser'))[0]
    for owner in owners:
        if owner == '@MTAUser':
            owner, tokens['@RunAsUser'] = ('@RunAsUser', mta_user) if mta_user else ('root', None)
        if owner in tokens:
            token = tokens[owner]
            account = _account(state, token)
            if account:
                names.append(account['name'])
            elif token:
                names.append(token)
        else:
            names.append(owner)
    return names


def path_problems(entry: dict, spec: dict, owners: list) -> list:
    """What is wrong with one existing (non-link) path against a path specification."""
    problems = []
    if entry['owner'] not in owners:
        problems.append('owner %s, not %s' % (entry['owner'], ' or '.join(owners) or 'an allowed user'))
    if spec.get('group') is not None and entry['group'] not in spec['group']:
        problems.append('group %s, not %s' % (entry['group'], ' or '.join(spec['group'])))
    mode = _octal(entry['mode'])
    ignore = _octal(spec.get('ignore'))
    extra = mode & ~_octal(spec['mode']) & ~ignore & 0o7777
    if extra:
        problems.append('mode %s has %04o beyond %s' % (entry['mode'], extra, spec['mode']))
    missing_bits = _octal(spec.get('require')) & ~mode
    if missing_bits:
        problems.append('mode %s lacks %04o' % (entry['mode'], missing_bits))
    return problems


def judge_path(entry: dict, spec: dict, owners: list, follow_links: bool = False):
    """(status, problems) of one path; a link is judged by its target when followed on purpose."""
    if entry.get('error'):
        return 'error', ['%s: %s' % (entry['path'], entry['error'])]
    if not entry.get('exists'):
        status = spec.get('missing', 'fail')
        return status, ([] if status == 'pass' else ['%s is absent' % entry['path']])
    judged = entry
    if entry.get('type') == 'link':
        if not follow_links:
            return 'fail', ['%s is a symbolic link' % entry['path']]
        judged = entry.get('target') or {'path': entry['path'], 'exists': False}
        if judged.get('error') or not judged.get('exists'):
            return judge_path(judged, spec, owners)
    problems = path_problems(judged, spec, owners)
    return ('fail' if problems else 'pass'), (['%s: %s' % (judged['path'], ', '.join(problems))] if problems else [])


def _paths(state: dict, group: str) -> list:
    return list(state.get('layout', {}).get(group) or [])


def _entry(state: dict, path: str) -> dict:
    return state.get('paths', {}).get(path) or {'path': path, 'exists': False, 'error': 'not read'}


def _worst(statuses: list) -> str:
    for status in ('error', 'fail'):
        if status in statuses:
            return status
    return 'pass'


def _outcome(status, actual, path, evidence):
    return {'status': status, 'actual': actual, 'path': path, 'evidence': evidence}


def judge_paths(state: dict, paths: list, spec: dict, follow_links: bool = False, roles: dict | None = None) -> dict:
    """Judge several paths against one specification (``roles``: path to the configuration, mta or msp, whose
    RunAsUser @RunAsUser stands for; mta where none is given)."""
    if not paths:
        return _outcome('pass', 'no such path on this host', None, 'nothing to read')
    statuses, problems, evidence = [], [], []
    for path in paths:
        entry = _entry(state, path)
        status, found = judge_path(entry, spec, owner_names(state, spec['owner'], (roles or {}).get(path, 'mta')), follow_links)
        statuses.append(status)
        problems.extend(found)
        evidence.append(entry_text(entry))
    status = _worst(statuses)
    first = paths[0] if len(paths) == 1 else None
    if problems:
        first = problems[0].split(':', 1)[0] if status != 'pass' else first
    return _outcome(status, '; '.join(problems) if problems else 'as expected', first, '; '.join(evidence))


def eval_path_set(control: dict, expected: dict, state: dict) -> dict:
    paths, roles = [], {}
    for group in control['params']['targets']:
        for path in _paths(state, group):
            if path not in paths:
                paths.append(path)
                roles[path] = (control['params'].get('owner_role') or {}).get(group, 'mta')
    if not paths and control['params'].get('none'):  # a control about what a host may not have at all
        return _outcome('not_applicable', control['params']['none'], None, 'nothing to read')
    return judge_paths(state, paths, expected, control['params'].get('follow_links', False), roles)


def eval_map_files(control: dict, expected: dict, state: dict) -> dict:
    """Alias databases and K-line maps (source and database files); absent files are skipped."""
    public = {'owner': expected['owner'], 'group': None, 'mode': expected['mode'], 'missing': 'pass'}
    private = dict(public, mode=expected['private_mode'])
    owners = owner_names(state, expected['owner'])
    statuses, problems, evidence = [], [], []
    for item in state.get('layout', {}).get('maps') or []:
        spec = private if item['name'] in expected['private'] else public
        for path in item['paths']:
            entry = _entry(state, path)
            if not entry.get('exists') and not entry.get('error'):
                continue
            status, found = judge_path(entry, spec, owners, follow_links=True)
            statuses.append(status)
            problems.extend(found)
            evidence.append(entry_text(entry))
    status = _worst(statuses)
    path = problems[0].split(':', 1)[0] if problems else None
    return _outcome(status, '; '.join(problems) if problems else 'as expected', path,
                    '; '.join(evidence) if evidence else 'no alias database or map file found')


def eval_run_as_user(control: dict, expected: dict, state: dict) -> dict:
    role = control['params']['config']
    config = state['configs'][role]
    value = _settings(state, role).get('RunAsUser')
    evidence = '%s: O RunAsUser=%s' % (config['path'], value) if value else '%s: no RunAsUser option' % config['path']
    if not value:
        return _outcome('fail', 'unset (the %s keeps root)' % role.upper(), config['path'], evidence)
    user, group = run_as_parts(value)
    account = _account(state, user)
    if account is None:
        return _outcome('fail', 'RunAsUser=%s: no such user' % value, config['path'], evidence)
    evidence += '; getpwnam %s: uid %s gid %s (%s)' % (user, account['uid'], account['gid'], account['group'])
    effective_group = group or account['group']
    problems = []
    if account['uid'] == 0:
        problems.append('RunAsUser=%s is root' % value)
    if expected.get('user') and account['name'] != expected['user']:
        problems.append('user %s, not %s' % (account['name'], expected['user']))
    if expected.get('group') and effective_group != expected['group']:
        problems.append('group %s, not %s' % (effective_group, expected['group']))
    path = config['path']
    queues = _paths(state, control['params']['queue']) if control['params'].get('queue') else []
    foreign = [item for queue in queues for item in (state.get('queue_files') or {}).get(queue, {}).get('files') or []
               if item['owner'] != account['name']]
    if foreign:
        problems.append('%d queued files %s cannot read, the MTA running as it: %s' % (
            len(foreign), account['name'], ', '.join('%s (%s)' % (item['path'], item['owner']) for item in foreign[:5])))
        path = foreign[0]['path'] if len(problems) == 1 else path
    actual = 'RunAsUser=%s' % value + ('; ' + '; '.join(problems) if problems else '')
    return _outcome('fail' if problems else 'pass', actual, path, evidence)


def eval_trusted_user(control: dict, expected: dict, state: dict) -> dict:
    config = state['configs'][control['params']['config']]
    value = _settings(state, 'mta').get('TrustedUser')
    if not value:
        return _outcome('pass', 'unset', config['path'], '%s: no TrustedUser option' % config['path'])
    evidence = '%s: O TrustedUser=%s' % (config['path'], value)
    account = _account(state, value)
    if account is None:
        return _outcome('fail', 'TrustedUser=%s: no such user' % value, config['path'], evidence)
    evidence += '; getpwnam %s: uid %s' % (value, account['uid'])
    problems = []
    if account['name'] not in expected['allowed']:
        problems.append('%s is not among %s' % (account['name'], ', '.join(expected['allowed'])))
    if account['uid'] != 0 and account['uid'] >= 1000:
        problems.append('%s (uid %s) is not a system user' % (account['name'], account['uid']))
    actual = 'TrustedUser=%s' % value + ('; ' + '; '.join(problems) if problems else '')
    return _outcome('fail' if problems else 'pass', actual, config['path'], evidence)


def setuid_root_files(state: dict) -> list:
    """The set-user-id files owned by root among sendmail's files."""
    return [entry for entry in state.get('setid_files') or [] if entry['setuid'] and entry['owner'] == 'root']


def eval_setuid_files(control: dict, expected: dict, state: dict) -> dict:
    found = setuid_root_files(state)
    offending = [entry for entry in found if entry['path'] not in expected.get('allowed', [])]
    evidence = '; '.join('lstat %s: %s:%s %s' % (e['path'], e['owner'], e['group'], e['mode']) for e in found)
    if not found:
        return _outcome('pass', 'no set-user-id root file', None,
                        'lstat of %d sendmail files: none set-user-id root' % len(state.get('setid_candidates') or []))
    actual = ', '.join('%s (%s)' % (e['path'], e['mode']) for e in offending) or 'only allowed files'
    return _outcome('fail' if offending else 'pass', actual, offending[0]['path'] if offending else None, evidence)


def eval_statoverride(control: dict, expected: dict, state: dict) -> dict:
    table = {entry['path']: entry for entry in state.get('statoverrides') or []}
    problems, evidence = [], []
    for path, wanted in sorted((expected.get('entries') or {}).items()):
        owner, group, mode = wanted.split()
        if not _entry(state, path).get('exists'):
            evidence.append('%s: absent from the host, skipped' % path)
            continue
        entry = table.get(path)
        if entry is None:
            problems.append('%s has no statoverride (wanted %s)' % (path, wanted))
            evidence.append('statoverride %s: none' % path)
            continue
        evidence.append('statoverride %s: %s %s %s' % (path, entry['owner'], entry['group'], entry['mode']))
        if (entry['owner'], entry['group'], _octal(entry['mode'])) != (owner, group, _octal(mode)):
            problems.append('%s pinned to %s %s %s, wanted %s' % (path, entry['owner'], entry['group'], entry['mode'], wanted))
    sendmail_files = set(state.get('setid_candidates') or []) | set(expected.get('entries') or {})
    for path, entry in sorted(table.items()):
        if path in sendmail_files and _octal(entry['mode']) & stat.S_ISUID and path not in (expected.get('entries') or {}):
            problems.append('%s pinned set-user-id (%s %s %s)' % (path, entry['owner'], entry['group'], entry['mode']))
            evidence.append('statoverride %s: %s %s %s' % (path, entry['owner'], entry['group'], entry['mode']))
    path = problems[0].split(' ', 1)[0] if problems else None
    return _outcome('fail' if problems else 'pass', '; '.join(problems) or 'as expected', path,
                    '; '.join(evidence) or 'no statoverride entries to compare')


# A directory a queue directory may hold besides its qf/df/xf subdirectories: a file system's own (the queue on a
# file system of its own). HostStatusDirectory, when it lies in the queue, is another (see queue_own_dirs).
QUEUE_OWN_DIRS = ('lost+found',)


def queue_own_dirs(state: dict) -> dict:
    """Queue directory -> the names of the directories sendmail keeps in it: the HostStatusDirectory of the
    configuration whose queue it is, where that lies in the queue (a relative one is taken from it)."""
    found = {}
    for role, group in (('mta', 'queue_mta'), ('msp', 'queue_msp')):
        value = _settings(state, role).get('HostStatusDirectory')
        for queue in _paths(state, group):
            names = list(QUEUE_OWN_DIRS)
            if value:
                path = os.path.normpath(os.path.join(queue, value))
                if os.path.dirname(path) == os.path.normpath(queue):
                    names.append(os.path.basename(path))
            found[queue] = names
    return found


def queue_problems(listings: dict, own_dirs: dict | None = None) -> list:
    """The entries of the queue directories that are not queue files sendmail wrote, each with ``path``, ``entry``
    and ``reason`` (what it is, in words). ``listings``: directory -> its queue listing (see _read_state.queue_listing).

    A symbolic link, a pipe, socket or device, a directory other than the qf/df/xf subdirectories and
    ``own_dirs``, and a regular file with hard links outside the queues: the classic way to make a root process
    that fixes a queue change /etc/shadow. sendmail links one df file to each envelope it splits a message
    into, so a file whose every link is in the queues is its own.
    """
    own_dirs = own_dirs if own_dirs is not None else {}
    queued = {}
    for listing in listings.values():
        for entry in listing.get('files') or []:
            if entry.get('inode'):
                queued[tuple(entry['inode'])] = queued.get(tuple(entry['inode']), 0) + 1
    found = []
    for directory, listing in sorted(listings.items()):
        for entry in listing.get('others') or []:
            if entry.get('error'):
                reason = '%s cannot be read: %s' % (entry['path'], entry['error'])
            elif entry.get('type') == 'link':
                reason = '%s is a symbolic link to %s' % (entry['path'], entry.get('link'))
            elif entry.get('type') != 'dir':
                reason = '%s is neither a regular file nor a directory' % entry['path']
            elif os.path.dirname(entry['path']) == directory.rstrip('/') and \
                    os.path.basename(entry['path']) in own_dirs.get(directory, QUEUE_OWN_DIRS):
                continue
            else:
                reason = '%s is a directory that is no queue subdirectory' % entry['path']
            found.append({'path': entry['path'], 'entry': entry, 'reason': reason})
        for entry in listing.get('files') or []:
            links, inside = entry.get('nlink') or 1, queued.get(tuple(entry.get('inode') or ()), 1)
            if links > inside:
                found.append({'path': entry['path'], 'entry': entry, 'reason': '%s has %d hard links, %d of them outside the queues'
                              % (entry['path'], links, links - inside)})
    return sorted(found, key=lambda item: item['path'])


def eval_queue_files(control: dict, expected: dict, state: dict) -> dict:
    """The modes of the queued files and of QueueFileMode, and every entry of the queues that is not a queue file."""
    limit = _octal(expected['mode'])
    problems, evidence, statuses, paths = [], [], [], []
    for role in ('mta', 'msp'):
        value = _settings(state, role).get('QueueFileMode')
        path = state['configs'][role]['path']
        evidence.append('%s: %s' % (path, 'O QueueFileMode=%s' % value if value else 'no QueueFileMode (default 0600)'))
        if value and _octal(value) & ~limit & 0o7777:
            problems.append('%s: QueueFileMode=%s beyond %s' % (path, value, expected['mode']))
            paths.append(path)
    listings = state.get('queue_files') or {}
    for directory, listing in sorted(listings.items()):
        if listing.get('error'):
            statuses.append('error')
            problems.append('%s: cannot list: %s' % (directory, listing['error']))
            paths.append(directory)
            continue
        others = listing.get('others') or []
        evidence.append('%s: %d queue files%s' % (directory, len(listing['files']), ', %d other entr%s' % (
            len(others), 'y' if len(others) == 1 else 'ies') if others else ''))
        for entry in listing['files']:
            extra = _octal(entry['mode']) & ~limit & 0o7777
            if extra:
                problems.append('%s: mode %s beyond %s' % (entry['path'], entry['mode'], expected['mode']))
                paths.append(entry['path'])
                evidence.append(entry_text(entry))
    for item in queue_problems({key: value for key, value in listings.items() if not value.get('error')}, queue_own_dirs(state)):
        problems.append(item['reason'])
        paths.append(item['path'])
        entry = item['entry']
        evidence.append(entry_text(entry) + (', %d links' % entry['nlink'] if entry.get('type') == 'file' and entry.get('nlink') else ''))
    status = 'error' if 'error' in statuses else ('fail' if problems else 'pass')
    return _outcome(status, '; '.join(problems) or 'as expected', paths[0] if paths else None, '; '.join(evidence))


def eval_option_words(control: dict, expected: dict, state: dict) -> dict:
    option = control['params']['option']
    allowed = {word.lower() for word in expected['allowed']}
    problems, evidence, actual = [], [], []
    for role in control['params']['configs']:
        config = state['configs'][role]
        words = _settings(state, role).get(option)
        if words is None:
            evidence.append('%s: no %s option' % (config['path'], option))
            actual.append('%s: unset' % role.upper())
            continue
        evidence.append('%s: %s=%s' % (config['path'], option, ','.join(words) or 'safe'))
        actual.append('%s: %s' % (role.upper(), ','.join(words) or 'safe'))
        extra = [word for word in words if word.lower() not in allowed]
        if extra:
            problems.append('%s: %s' % (config['path'], ','.join(extra)))
    path = problems[0].split(':', 1)[0] if problems else None
    return _outcome('fail' if problems else 'pass', '; '.join(actual), path, '; '.join(evidence))


def eval_option_value(control: dict, expected: dict, state: dict) -> dict:
    option = control['params']['option']
    config = state['configs'][control['params']['config']]
    value = _settings(state, control['params']['config']).get(option)
    evidence = _option_evidence(config, option, value)
    if not value:
        return _outcome('fail', '%s unset' % option if value is None else '%s empty' % option, config['path'], evidence)
    if expected.get('value') and value != expected['value']:
        return _outcome('fail', '%s=%s, not %s' % (option, value, expected['value']), config['path'], evidence)
    return _outcome('pass', '%s=%s' % (option, value), config['path'], evidence)


def _option_evidence(config: dict, option: str, value) -> str:
    return '%s: %s' % (config['path'], 'O %s=%s' % (option, value) if value is not None else 'no %s option' % option)


def eval_option_words_required(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    words = _settings(state, params['config']).get(params['option'])
    evidence = _option_evidence(config, params['option'], ','.join(words) if words is not None else None)
    missing = privacy_missing(words, expected['required'], params['implied'])
    actual = '%s=%s' % (params['option'], ','.join(words)) if words else '%s unset' % params['option']
    if missing:
        return _outcome('fail', '%s; lacks %s' % (actual, ', '.join(missing)), config['path'], evidence)
    return _outcome('pass', actual, config['path'], evidence)


def eval_greeting(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    value = _settings(state, params['config']).get(params['option'])
    evidence = _option_evidence(config, params['option'], value)
    leaks = greeting_leaks(value, params['forbidden'])
    if value is None:
        return _outcome('fail', '%s unset: sendmail greets with its version ($v)' % params['option'], config['path'], evidence)
    if leaks:
        return _outcome('fail', 'the greeting holds %s' % ' and '.join(leaks), config['path'], evidence)
    if expected.get('value') and value != expected['value']:
        return _outcome('fail', 'the greeting is %s, not %s' % (value, expected['value']), config['path'], evidence)
    return _outcome('pass', 'the greeting holds no version', config['path'], evidence)


def eval_help_file(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    value = _settings(state, params['config']).get(params['option'])
    evidence = _option_evidence(config, params['option'], value)
    if not value:
        return _outcome('fail', 'no HelpFile: HELP answers "HELP not implemented" with the version', config['path'], evidence)
    entry = _entry(state, value)
    evidence += '; ' + entry_text(entry)
    if entry.get('error'):
        return _outcome('error', 'cannot read %s: %s' % (value, entry['error']), value, evidence)
    if not entry.get('exists'):
        return _outcome('fail', '%s is absent: HELP answers "HELP not implemented" with the version' % value, value, evidence)
    if entry.get('type') != 'file':
        return _outcome('fail', '%s is not a regular file (%s)' % (value, entry.get('type')), value, evidence)
    if entry.get('size') is None:
        return _outcome('error', 'the size of %s was not read' % value, value, evidence)
    evidence += ', %d bytes' % entry['size']
    if entry['size']:
        return _outcome('fail', '%s has %d bytes: HELP sends them, the version among them' % (value, entry['size']), value, evidence)
    return _outcome('pass', '%s is empty' % value, value, evidence)


def _number_problem(option: str, value, bound: str, limit: int):
    """(in force, problem or None) of one numeric option against its bound."""
    current = number_in_force(option, value)
    shown = '%s=%s' % (option, value) if value not in (None, '') else '%s unset (%s)' % (option, current)
    if current is None:
        return shown, '%s is not a number' % shown
    if within_bound(bound, current, limit):
        return shown, None
    if bound == 'min':
        return shown, '%s is below %d' % (shown, limit)
    return shown, ('%s sets no limit' % shown) if current == 0 else '%s is above %d' % (shown, limit)


def eval_option_number(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    value = _settings(state, params['config']).get(params['option'])
    shown, problem = _number_problem(params['option'], value, params['bound'], int(expected['value']))
    return _outcome('fail' if problem else 'pass', problem or shown, config['path'], _option_evidence(config, params['option'], value))


def eval_option_limits(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    values = config.get('values') or {}
    shown, problems, evidence = [], [], []
    for option, key in params['limits']:
        value = (values.get(option) or [None])[-1]
        text, problem = _number_problem(option, value, 'max', int(expected[key]))
        shown.append(text)
        evidence.append(_option_evidence(config, option, value))
        if problem:
            problems.append(problem)
    return _outcome('fail' if problems else 'pass', '; '.join(problems or shown), config['path'], '; '.join(evidence))


def eval_relay_features(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    marks = _settings(state, params['config']).get('relay_marks') or {}
    found = [name for name in params['features'] if marks.get(name)]
    evidence = '%s: %s' % (config['path'], '; '.join(
        '%s: %s' % (name, 'built with it' if marks.get(name) else 'not built with it') for name in params['features']))
    refused = [name for name in found if name not in expected['allowed']]
    if refused:
        return _outcome('fail', 'built with ' + ', '.join("FEATURE(`%s')" % name for name in refused), config['path'], evidence)
    return _outcome('pass', 'built with ' + ', '.join(found) + ' (allowed)' if found else 'no relaying feature',
                    config['path'], evidence)


def listen_evidence(state: dict, params: dict) -> str:
    """The daemons of the MTA and where its MSP submits, as read."""
    config = state['configs'][params['config']]
    values = (config.get('values') or {}).get(params['option']) or []
    msp = state['configs'].get(params['msp']) or {}
    shown = '; '.join('%s=%s' % (params['option'], value) for value in values) or 'no %s (sendmail: %s)' % (
        params['option'], daemons(values)[0])
    if msp.get('settings'):
        shown += '; %s: {MTAHost} %s' % (msp['path'], msp['settings'].get('MTAHost') or 'unset')
    return '%s: %s' % (config['path'], shown)


def eval_loopback_listeners(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    evidence = listen_evidence(state, params)
    if not expected.get('not_a_relay'):
        return _outcome('not_applicable', 'not declared a host that is not a relay (expected not_a_relay)', None, evidence)
    values = (config.get('values') or {}).get(params['option']) or []
    problems = [found for found in (problem(value) for value in daemons(values)) if found]
    if problems:
        return _outcome('fail', '; '.join(problems), config['path'], evidence)
    return _outcome('pass', 'every daemon on loopback', config['path'], evidence)


def _alias_sources(state: dict) -> list:
    return sorted((state.get('alias_sources') or {}).items())


def eval_forbidden_aliases(control: dict, expected: dict, state: dict) -> dict:
    wanted = {name.lower() for name in expected['names']}
    found, evidence, statuses = [], [], []
    for path, source in _alias_sources(state):
        if source.get('error'):
            statuses.append('error')
            evidence.append('%s: %s' % (path, source['error']))
            continue
        hits = [entry for entry in source['entries'] if entry['name'].lower() in wanted]
        evidence.append('%s: %d entries%s' % (path, len(source['entries']), ''.join(
            '; line %d: %s: %s' % (entry['line'], entry['name'], entry['rhs']) for entry in hits)))
        found.extend('%s (%s, line %d)' % (entry['name'], path, entry['line']) for entry in hits)
    status = 'fail' if found else _worst(statuses)
    first = found[0].split('(', 1)[1].split(',', 1)[0] if found else None
    return _outcome(status, 'aliases %s' % ', '.join(found) if found else 'none of them', first,
                    '; '.join(evidence) or 'no alias file')


def eval_required_aliases(control: dict, expected: dict, state: dict) -> dict:
    names, evidence, statuses = set(), [], []
    for path, source in _alias_sources(state):
        if source.get('error'):
            statuses.append('error')
            evidence.append('%s: %s' % (path, source['error']))
            continue
        names.update(entry['name'].lower() for entry in source['entries'])
        evidence.append('%s: %d entries' % (path, len(source['entries'])))
    missing = [name for name in expected['names'] if name.lower() not in names]
    status = 'fail' if missing else _worst(statuses)
    return _outcome(status, 'no alias for %s' % ', '.join(missing) if missing else 'present', None,
                    '; '.join(evidence) or 'no alias file')


def eval_forward_path(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    value = _settings(state, params['config']).get(params['option'])
    evidence = _option_evidence(config, params['option'], value)
    dropped = forward_dropped(value, expected)
    files = [item for item in state.get('forward_files') or [] if item['entry'] in dropped]
    if files:
        evidence += '; on the entries the policy takes away: ' + ', '.join(item['path'] for item in files[:PATHS_SHOWN])
    shown = 'ForwardPath=%s' % value if value is not None else 'ForwardPath unset (%s)' % ':'.join(forward_entries(None))
    if not dropped:
        return _outcome('pass', '%s (policy %s)' % (shown, expected['policy']), config['path'], evidence)
    users = '; %d users have files there' % len(files) if files else ''
    return _outcome('fail', '%s: %s beyond policy %s%s' % (shown, ':'.join(dropped), expected['policy'], users),
                    config['path'], evidence)


def eval_prog_mailer(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config = state['configs'][params['config']]
    mailer = (config.get('mailers') or {}).get(params['mailer'])
    if not mailer:
        return _outcome('pass', 'no %s mailer: no program is run' % params['mailer'], config['path'],
                        '%s: no M%s line' % (config['path'], params['mailer']))
    evidence = '%s: M%s, P=%s, A=%s' % (config['path'], params['mailer'], mailer.get('path'), mailer.get('argv'))
    if os.path.basename(mailer.get('path') or '') == params['shell']:
        return _outcome('pass', 'P=%s' % mailer['path'], config['path'], evidence)
    return _outcome('fail', 'P=%s: any command an alias or .forward names is run' % mailer.get('path'), config['path'], evidence)


def eval_smrsh_programs(control: dict, expected: dict, state: dict) -> dict:
    directory = ((state.get('layout') or {}).get('smrsh_dir') or [None])[0]
    if not directory:
        return _outcome('pass', "no smrsh directory on this host", None, 'none of the known smrsh directories exists')
    found = smrsh_interpreters(state, control['params']['interpreters'], expected['allowed'])
    evidence = '%s: %s' % (directory, ', '.join('%s%s' % (e['name'], ' -> %s' % e['link'] if e['link'] else '')
                                                for e in state.get('smrsh_entries') or []) or 'empty')
    if found:
        return _outcome('fail', 'interpreters: %s' % ', '.join('%s (%s)' % (item['path'], item['as']) for item in found),
                        found[0]['path'], evidence)
    return _outcome('pass', 'no shell or interpreter', directory, evidence)


def smrsh_interpreters(state: dict, interpreters, allowed=()) -> list:
    """The entries of smrsh's directory that are (or point at) a shell or interpreter: ``path``, ``name``, ``as``."""
    directory = ((state.get('layout') or {}).get('smrsh_dir') or [None])[0]
    found = []
    for entry in state.get('smrsh_entries') or []:
        if entry['name'] in allowed:
            continue
        what = interpreter_name(entry['name'], interpreters) or (
            interpreter_name(os.path.basename(entry['link']), interpreters) if entry['link'] else None)
        if what:
            found.append({'path': os.path.join(directory, entry['name']), 'name': entry['name'], 'as': what})
    return found


def eval_smtp_debugging(control: dict, expected: dict, state: dict) -> dict:
    option = control['params']['option']
    compiled = state.get('compiled_with') or []
    listed = 'listed' if option in compiled else 'not listed'
    evidence = 'sendmail -d0.10: %s %s among %d compile options' % (option, listed, len(compiled))
    if option in compiled:
        return _outcome('fail', 'built with %s: DEBUG and SHOWQ answer any client' % option, None, evidence)
    return _outcome('pass', 'built without %s' % option, None, evidence)


def eval_mail_log(control: dict, expected: dict, state: dict) -> dict:
    syslog = state.get('syslog') or {}
    if not syslog.get('configs'):
        return _outcome('not_applicable', 'no syslog daemon configuration on this host', None,
                        'none of %s exists' % ', '.join(SYSLOG_CONFIGS))
    rules = '; '.join('%s:%d: %s' % (rule['config'], rule['line'], rule['text']) for rule in syslog.get('rules') or [])
    if not syslog.get('rules'):
        return _outcome('fail', 'no rule sends the mail facility to a file: mail is not logged', syslog['configs'][0],
                        'read %s: no mail rule' % ', '.join(syslog['configs']))
    outcome = eval_path_set(control, expected, state)
    return dict(outcome, evidence='%s; %s' % (rules, outcome['evidence']))


def eval_privdrop(control: dict, expected: dict, state: dict) -> dict:
    method = state.get('drop_method')
    kernel = state.get('kernel') or {}
    if not kernel.get('probed'):
        return _outcome('error', 'kernel probe not run: %s' % kernel.get('reason'), None,
                        'drop method %s (OS Defines); probe not run: %s' % (method, kernel.get('reason')))
    evidence = 'drop method %s (OS Defines); t_seteuid %s, t_setreuid %s' % (
        method, 'ok' if kernel.get('seteuid_ok') else 'failed', 'ok' if kernel.get('setreuid_ok') else 'failed')
    if kernel.get('failed_step'):
        evidence += ' (%s)' % kernel['failed_step']
    works = state.get('method_works')
    return _outcome('pass' if works else 'fail', '%s %s on this kernel' % (method, 'works' if works else 'fails'), None, evidence)


# A host with thousands of .forward files: the finding names the first ones; the report stays readable.
PATHS_SHOWN = 10
ITEMS_SHOWN = 50


def eval_runas_impact(control: dict, expected: dict, state: dict) -> dict:
    impact = state.get('runas_impact') or {}
    config = state['configs'][control['params']['config']]
    if impact.get('error') or not impact:
        return _outcome('not_applicable', 'no RunAsUser to judge: %s' % (impact.get('error') or 'not read'), config['path'],
                        '%s: %s' % (config['path'], impact.get('error') or 'the impact was not read'))
    items = impact['items']
    now = 'RunAsUser=%s is set' % impact['user'] if impact['set'] else 'with RunAsUser=%s' % impact['user']
    scanned = '%d accounts scanned' % impact['users_scanned']
    if not items:
        return _outcome('pass', '%s, no delivery needs root (%s)' % (now, scanned), config['path'], scanned)
    verb = 'broken now' if impact['set'] else 'would break'
    paths = sorted({item['path'] for item in items})
    shown = ', '.join(paths[:PATHS_SHOWN]) + (', and %d more' % (len(paths) - PATHS_SHOWN) if len(paths) > PATHS_SHOWN else '')
    actual = '%s: %d deliver%s %s: %s' % (now, len(items), 'y' if len(items) == 1 else 'ies', verb, shown)
    return _outcome('fail', actual, items[0]['path'], items_text(items, ITEMS_SHOWN))


def _lines_text(lines: list, limit: int = 8) -> str:
    shown = ['%d: %s' % (item['line'], item['text']) for item in lines[:limit]]
    return ' | '.join(shown) + (' | ... %d more' % (len(lines) - limit) if len(lines) > limit else '')


def eval_cf_source(control: dict, expected: dict, state: dict) -> dict:
    """Each .cf against what m4 builds of its .mc: hand edits a rebuild would drop, .mc changes not in force."""
    statuses, problems, evidence, first = [], [], [], None
    for role in control['params']['configs']:
        found = (state.get('cf_sources') or {}).get(role)
        if found is None:
            statuses.append('error')
            problems.append('%s: not compared with its .mc' % state['configs'][role]['path'])
            continue
        if not found['buildable']:
            statuses.append('not_applicable')
            evidence.append(found['reason'])
            continue
        if found['error']:
            statuses.append('fail')
            problems.append('%s: m4 cannot build it from %s, so the next rebuild would fail or install a broken file (%s)'
                            % (found['cf'], found['mc'], found['error']))
            first = first or found['cf']
            continue
        dropped, added = found['only_installed'], found['only_built']
        evidence.append('m4 %s compared with %s: %d lines only in the .cf, %d only in the build'
                        % (found['mc'], found['cf'], len(dropped), len(added)))
        if dropped:
            problems.append('%s has lines its .mc does not build; the next rebuild from %s (make -C, sendmailconfig, a '
                            'package upgrade) silently drops them: %s' % (found['cf'], found['mc'], _lines_text(dropped)))
        if added:
            problems.append('%s builds lines %s lacks (the .mc changed, the .cf was not rebuilt): %s'
                            % (found['mc'], found['cf'], _lines_text(added)))
        statuses.append('fail' if dropped or added else 'pass')
        if dropped or added:
            first = first or found['cf']
    if statuses and all(status == 'not_applicable' for status in statuses):
        return _outcome('not_applicable', 'nothing on this host rebuilds the .cf files from a .mc', None, '; '.join(evidence))
    status = _worst([s for s in statuses if s != 'not_applicable'])
    return _outcome(status, '; '.join(problems) if problems else 'each .cf is what its .mc builds', first,
                    '; '.join(evidence) or 'nothing compared')


# --- mail in transit: the configuration, and what the daemons answer over the wire ---------------------

# The word of sendmail -d0.10's "Compiled with:" that says it can do STARTTLS at all.
STARTTLS_BUILT = 'STARTTLS'


def _wire(state: dict) -> tuple:
    """(the daemons' answers to judge, evidence): none to judge where no daemon ran to ask, or where it runs an
    older sendmail.cf than the one judged (right after the hardening, before its restart)."""
    found = (state.get('transit') or {}).get('smtp')
    if not found:
        return [], ['wire: not asked']
    if not found.get('ran'):
        return [], ['wire: not asked: %s' % found.get('why')]
    texts = [wire_text(daemon) for daemon in found.get('daemons') or []] or ['wire: no TCP daemon to ask']
    if found.get('stale'):
        return [], ['%s (the daemon runs an older sendmail.cf: not judged)' % text for text in texts]
    return [daemon for daemon in found.get('daemons') or [] if not daemon.get('error')], texts


def _without_starttls(state: dict):
    """An outcome where sendmail is built without STARTTLS (its options mean nothing there), else None."""
    if STARTTLS_BUILT in (state.get('compiled_with') or []):
        return None
    return _outcome('not_applicable', 'sendmail is built without STARTTLS', None, 'Compiled with: %s' % ' '.join(
        state.get('compiled_with') or []))


def _options_read(control: dict, state: dict, options: list) -> tuple:
    """(the config, its settings, the evidence of ``options``) of a control's configuration."""
    config = state['configs'][control['params']['config']]
    values = _settings(state, control['params']['config'])
    return config, values, [_option_evidence(config, option, values.get(option)) for option in options]


def eval_starttls(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config, values, evidence = _options_read(control, state, params['options'])
    outcome = _without_starttls(state)
    if outcome:
        return outcome
    problems = []
    for option, key in zip(params['options'], ('cert', 'key', None, None)):
        value = values.get(option)
        if not value:
            problems.append('no %s' % option)
            continue
        entry = _entry(state, value)
        evidence.append(entry_text(entry))
        if not entry.get('exists') and not entry.get('error'):
            problems.append('%s %s is absent' % (option, value))
        if key and expected.get(key) and value != expected[key]:
            problems.append('%s=%s, not %s' % (option, value, expected[key]))
    daemons, said = _wire(state)
    evidence += said
    silent = ['%s %s:%d' % (d['name'], d['address'], d['port']) for d in daemons if not d['starttls']]
    if silent and (values.get(params['options'][0]) or not problems):
        problems.append('%s offers no STARTTLS over the wire' % ', '.join(silent))
    if problems:
        actual = 'STARTTLS is not configured: ' + '; '.join(problems) if not values.get(params['options'][0]) else '; '.join(problems)
        return _outcome('fail', actual, config['path'], '; '.join(evidence))
    return _outcome('pass', 'STARTTLS configured' + (' and offered' if daemons else ''), config['path'], '; '.join(evidence))


def _days_left(not_after: str, now: str) -> float:
    fmt = '%Y-%m-%dT%H:%M:%SZ'
    delta = datetime.datetime.strptime(not_after, fmt) - datetime.datetime.strptime(now, fmt)
    return delta.total_seconds() / 86400


def eval_certificate_expiry(control: dict, expected: dict, state: dict) -> dict:
    transit = state.get('transit') or {}
    now = transit.get('now')
    seen = [(path, item.get('not_after'), item.get('error')) for path, item in sorted((transit.get('certificates') or {}).items())]
    daemons, _said = _wire(state)
    seen += [('%s %s:%d over the wire' % (d['name'], d['address'], d['port']), d['tls']['not_after'], None)
             for d in daemons if d.get('tls') and d['tls'].get('not_after')]
    if not seen:
        return _outcome('not_applicable', 'the MTA names no certificate', None, 'nothing to read')
    problems, errors, evidence = [], [], []
    for where, until, error in seen:
        if error:
            errors.append('%s: %s' % (where, error))
            evidence.append('%s: %s' % (where, error))
            continue
        left = _days_left(until, now)
        evidence.append('%s: notAfter %s' % (where, until))
        if left < 0:
            problems.append('%s expired on %s' % (where, until[:10]))
        elif left < expected['days']:
            problems.append('%s expires on %s, in %d days' % (where, until[:10], int(left)))
    evidence.append('read at %s' % now)
    status = 'error' if errors else ('fail' if problems else 'pass')
    path = seen[0][0] if seen[0][0].startswith('/') else None
    return _outcome(status, '; '.join(errors + problems) or 'valid for more than %d days' % expected['days'], path, '; '.join(evidence))


def eval_tls_floor(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config, values, evidence = _options_read(control, state, params['options'] + [params['ciphers']])
    outcome = _without_starttls(state)
    if outcome:
        return outcome
    problems = []
    for option in params['options']:
        left_on = ssl_floor_missing(values.get(option))
        if left_on:
            problems.append('%s leaves %s on' % (option, ', '.join(left_on)))
    problems += ['%s: %s' % (params['ciphers'], problem) for problem in cipher_problems(values.get(params['ciphers']))]
    daemons, said = _wire(state)
    evidence += said
    accepts = accepted({'daemons': daemons})
    problems += ['%s accepted over the wire by %s' % (label, ', '.join(accepts[label])) for label in params['refused'] if label in accepts]
    if problems:
        return _outcome('fail', '; '.join(problems), config['path'], '; '.join(evidence))
    return _outcome('pass', 'SSL 3, TLS 1.0 and TLS 1.1 off on both sides; no weak suite in %s' % params['ciphers'],
                    config['path'], '; '.join(evidence))


def eval_auth_plaintext(control: dict, expected: dict, state: dict) -> dict:
    params = control['params']
    config, values, evidence = _options_read(control, state, [params['mechanisms'], params['option']])
    configured = plaintext_mechanisms(values.get(params['mechanisms']))
    daemons, said = _wire(state)
    early = ['%s %s:%d offers %s before STARTTLS' % (d['name'], d['address'], d['port'], ' '.join(plaintext_mechanisms(
        ' '.join(d['auth_before'])))) for d in daemons if plaintext_mechanisms(' '.join(d['auth_before']))]
    evidence += said
    if not configured and not early:
        return _outcome('not_applicable', 'no plaintext AUTH mechanism is configured', config['path'], '; '.join(evidence))
    problems = []
    if params['letter'] not in auth_words(values.get(params['option'])):
        problems.append('%s %s without %s: %s offered before STARTTLS' % (
            params['option'], values.get(params['option']) or 'unset', params['letter'], ' and '.join(configured or ['PLAIN/LOGIN'])))
    problems += early
    if problems:
        return _outcome('fail', '; '.join(problems), config['path'], '; '.join(evidence))
    return _outcome('pass', '%s held back until STARTTLS' % ' and '.join(configured), config['path'], '; '.join(evidence))


EVALUATORS = {
    'run_as_user': eval_run_as_user, 'trusted_user': eval_trusted_user, 'setuid_files': eval_setuid_files,
    'statoverride': eval_statoverride, 'path_set': eval_path_set, 'map_files': eval_map_files,
    'queue_files': eval_queue_files, 'option_words': eval_option_words, 'option_value': eval_option_value,
    'privdrop': eval_privdrop, 'cf_source': eval_cf_source, 'runas_impact': eval_runas_impact,
    'option_words_required': eval_option_words_required, 'greeting': eval_greeting, 'help_file': eval_help_file,
    'option_number': eval_option_number, 'option_limits': eval_option_limits, 'relay_features': eval_relay_features,
    'forbidden_aliases': eval_forbidden_aliases, 'required_aliases': eval_required_aliases, 'forward_path': eval_forward_path,
    'loopback_listeners': eval_loopback_listeners, 'prog_mailer': eval_prog_mailer, 'mail_log': eval_mail_log,
    'smrsh_programs': eval_smrsh_programs, 'smtp_debugging': eval_smtp_debugging, 'starttls': eval_starttls,
    'certificate_expiry': eval_certificate_expiry, 'tls_floor': eval_tls_floor, 'auth_plaintext': eval_auth_plaintext,
}


def parse_date(text) -> datetime.date:
    """A waiver's YYYY-MM-DD date; ValueError when it is not one."""
    if isinstance(text, datetime.date):
        return text
    return datetime.datetime.strptime(str(text), '%Y-%m-%d').date()


# The options sendmail_drift and sendmail_harden take waivers with (documented once, in the waivers doc fragment).
WAIVER_OPTIONS = {
    'waivers': {'type': 'list', 'elements': 'dict', 'default': [], 'options': {
        'id': {'type': 'str', 'required': True},
        'hosts': {'type': 'str', 'default': '*'},
        'reason': {'type': 'str', 'required': True},
        'expires': {'type': 'str'},
    }},
    'host_name': {'type': 'str', 'default': ''},
}


def waiver_errors(waivers: list, known_ids) -> list:
    """Why the waivers are wrong, one sentence each; empty when they are right."""
    errors = []
    for number, waiver in enumerate(waivers or [], start=1):
        if waiver.get('id') not in known_ids:
            errors.append('waiver %d names %s, which is no control id' % (number, waiver.get('id')))
        if not str(waiver.get('reason') or '').strip():
            errors.append('waiver %d (%s) needs a reason' % (number, waiver.get('id')))
        if waiver.get('expires') is not None:
            try:
                parse_date(waiver['expires'])
            except ValueError:
                errors.append('waiver %d (%s): expires must be a date as YYYY-MM-DD, not %s' % (number, waiver.get('id'), waiver['expires']))
    return errors


def find_waiver(control_id: str, waivers: list, host_name: str, today: datetime.date):
    """The waiver for this control and host (an active one first), as reported in a finding; None when none matches."""
    found = []
    for waiver in waivers or []:
        if waiver.get('id') != control_id or not fnmatch.fnmatchcase(host_name or '', waiver.get('hosts') or '*'):
            continue
        expires = waiver.get('expires')
        expired = expires is not None and parse_date(expires) < today
        found.append({'id': control_id, 'reason': waiver['reason'], 'expires': None if expires is None else str(expires),
                      'expired': expired})
    found.sort(key=lambda waiver: waiver['expired'])
    return found[0] if found else None


def finding(control: dict, expected: dict, outcome: dict, waiver) -> dict:
    """One finding, with exactly the keys of the module's contract."""
    status = outcome['status']
    if waiver and not waiver['expired'] and status == 'fail':
        status = 'waived'
    return {
        'id': control['id'], 'title': control['title'], 'family': control['family'], 'severity': control['severity'],
        'status': status, 'expected': describe_expected(control, expected), 'actual': outcome['actual'],
        'path': outcome['path'], 'evidence': outcome['evidence'], 'references': references(control),
        'fix': control['fix'], 'waiver': waiver,
    }


def evaluate_control(control: dict, expected: dict, state: dict) -> dict:
    """Status, actual, path and evidence of one control on a collected state; never raises for host data.

    Where sendmail was found elsewhere than the program asked for, the evidence says so. A host where no
    sendmail program answers has nothing to judge: its controls do not apply, unless something shows that
    sendmail is there (a running daemon, a package listing a program that is gone): then nothing could be
    read, and each control is an error.
    """
    located = state.get('locate') or {}
    if not state.get('installed'):
        if located.get('seen'):
            return _outcome('error', 'cannot be audited: %s' % located['seen'], None, located.get('evidence') or located['seen'])
        return _outcome('not_applicable', 'sendmail is not installed', None, state.get('reason') or 'sendmail is not installed')
    outcome = _judge(control, expected, state)
    if located.get('found'):
        outcome['evidence'] = '%s; %s' % (outcome['evidence'], located['found']) if outcome['evidence'] else located['found']
    return outcome


def _judge(control: dict, expected: dict, state: dict) -> dict:
    """The outcome of one control on the state of a host whose sendmail answered."""
    if not applies_to(control, (state.get('os') or {}).get('family')):
        return _outcome('not_applicable', 'not on this OS family (%s)' % (state.get('os') or {}).get('family'), None,
                        'applies to %s only' % ', '.join(control['applies']['os_family']))
    for role in control['needs']:
        config = state['configs'][role]
        if config.get('error'):
            return _outcome('error', 'cannot read the %s configuration' % role.upper(), config['path'],
                            '%s: %s' % (config['path'], config['error']))
    try:
        return EVALUATORS[control['evaluator']](control, expected, state)
    except (KeyError, TypeError, ValueError) as exc:  # a state this evaluator did not foresee
        return _outcome('error', 'could not evaluate: %s' % exc, None, 'internal error: %r' % exc)


def evaluate(controls: list, expected_by_id: dict, state: dict, waivers: list = None, host_name: str = '',
             today: datetime.date | None = None) -> list:
    """The findings of the selected controls, in catalogue order."""
    today = today or datetime.date.today()
    findings = []
    for control in controls:
        expected = expected_by_id[control['id']]
        outcome = evaluate_control(control, expected, state)
        findings.append(finding(control, expected, outcome, find_waiver(control['id'], waivers, host_name, today)))
    return findings


# The statuses that make a host drift: a control fails, or could not be judged (nothing shows it passes).
DRIFT_STATUSES = ('fail', 'error')
# A host's verdict: the audit could not run on it, it drifts, it has no sendmail at all, or it meets the baseline.
VERDICTS = ('not_audited', 'drift', 'no_sendmail', 'compliant')


def verdict(reachable: bool, installed, drift: bool) -> str:
    """The verdict of a host; a host without sendmail is told apart from one that meets the baseline."""
    if not reachable:
        return 'not_audited'
    if drift:
        return 'drift'
    return 'no_sendmail' if installed is False else 'compliant'


def count(findings: list) -> dict:
    """How many findings have each status; every status present. The one count of the module and the reports."""
    counts = dict.fromkeys(STATUSES, 0)
    for item in findings:
        counts[item['status']] += 1
    return counts


def drifts(counts: dict) -> bool:
    """The one rule for drift, from the counts: a control fails, or could not be judged."""
    return any(counts[status] for status in DRIFT_STATUSES)


def summarize(findings: list, state: dict | None = None) -> dict:
    """counts (every status), drift (any fail or error), controls_evaluated and, given the state, the verdict."""
    counts = count(findings)
    drift = drifts(counts)
    result = {'counts': counts, 'drift': drift, 'controls_evaluated': len(findings)}
    if state is not None:
        result['verdict'] = verdict(True, bool(state.get('installed')), drift)
    return result
