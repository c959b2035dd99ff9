# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The one way a sendmail .cf is replaced: new text, then a candidate file, sendmail's check, a rename.

What Debian's /etc/mail/Makefile does, without its trap: it runs
``m4 sendmail.mc > sendmail.cf.new 2> sendmail.cf.errors || true`` and installs
the result even when m4 failed. Here the new text comes either from m4 reading the
(edited) .mc text, or from the installed .cf with options edited in place (hand edits
kept: ``_text_cfedit``). It goes to a temporary file in the directory of the target .cf,
sendmail itself must accept that candidate (``sendmail -C candidate -bv root``),
and only then is the .mc written and the old .cf replaced by a rename. Any failure
leaves both as they were and removes the candidate.

``prepare`` computes a change (pure, but for m4), ``check`` has sendmail read it
without installing anything (check mode), ``commit`` installs it. ``sendmail_mc``
and the hardening both go through these three.

Commands run through a ``runner(argv, data=None, cwd=None) -> (rc, stdout, stderr)``
callable: ``module.run_command`` in a module, a fake in unit tests.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
import tempfile

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import fold_lines, parse_cf, split_option
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import CfEditError, agrees, compare, set_option
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEFAULT_BINARY

VALIDATE_ARGS = ('-bv', 'root')


class BuildError(Exception):
    """A build step failed; the message is one sentence naming the file and what to do."""


def _first_line(text: str) -> str:
    for line in (text or '').splitlines():
        if line.strip():
            return line.strip()[:300]
    return ''


def source_trailer(mc_path: str, mc_text: str) -> str:
    """The copy of the .mc that Debian's Makefile appends to the .cf, each line behind '# '."""
    return '### %s ###\n' % mc_path + ''.join('# ' + line for line in mc_text.splitlines(True))


def m4_errors(err: str | None) -> str:
    """What m4 wrote on its standard error besides sendmail's own warnings ('*** WARNING: ...' and the
    indented lines that go on with one, as FEATURE(`promiscuous_relay') prints): the build's errors."""
    errors, in_warning = [], False
    for line in (err or '').splitlines():
        if line.startswith('*** WARNING'):
            in_warning = True
        elif in_warning and line[:1] in (' ', '\t'):
            continue
        elif line.strip():
            in_warning = False
            errors.append(line)
    return '\n'.join(errors)


def render_cf(mc_text: str, mc_path: str, cf_path: str, runner, m4: str = 'm4', trailer: bool = True) -> str:
    """The .cf text m4 makes of ``mc_text``, as if it were the file ``mc_path``.

    m4 reads the text on its standard input in the directory of the .mc (where
    ``make -C /etc/mail`` runs it). It fails with BuildError when m4 exits non-zero,
    writes anything but sendmail's warnings on its standard error (sendmail's m4 files
    report errors with ``errprint`` and exit 0), or prints nothing that looks like a
    configuration.
    """
    try:
        rc, out, err = runner([m4], data=mc_text, cwd=os.path.dirname(mc_path) or None)
    except OSError as exc:
        raise BuildError('Could not run %s to build %s: %s; install m4 and the sendmail-cf files, nothing was changed.'
                         % (m4, cf_path, exc.strerror or exc)) from exc
    if rc != 0 or m4_errors(err):
        raise BuildError('m4 could not build %s from %s (exit %d: %s); fix the .mc, nothing was changed.'
                         % (cf_path, mc_path, rc, _first_line(m4_errors(err) or err) or 'no message'))
    parsed = parse_cf(out)
    if not parsed['options'] or parsed['version_level'] is None:
        raise BuildError('m4 made no sendmail configuration of %s (no options or no V line); check that it includes cf.m4, '
                         'nothing was changed.' % mc_path)
    if trailer:
        out = out + source_trailer(mc_path, mc_text)
    return out


def write_candidate(text: str, directory: str, cf_path: str, like: os.stat_result | None = None) -> str:
    """Write ``text`` to a new private temporary file in ``directory``; return its path.

    Owner, group and mode are set on the open descriptor before anything else
    can see the file: those of ``like`` (the installed .cf) when given, else
    0644 and the current user.
    """
    fd, path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(cf_path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            if like is not None:
                os.fchown(handle.fileno(), like.st_uid, like.st_gid)
                os.fchmod(handle.fileno(), like.st_mode & 0o7777)
            else:
                os.fchmod(handle.fileno(), 0o644)
    except BaseException:
        discard(path)
        raise
    return path


def discard(path: str | None) -> None:
    """Remove a candidate file; a missing one is fine."""
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _name_the_target(message: str, candidate: str, cf_path: str) -> str:
    """Put the target's name where sendmail names the candidate (it shortens long paths with '...')."""
    return re.sub(r'\S*' + re.escape(os.path.basename(candidate)), lambda _match: cf_path, message)


def validate_cf(candidate: str, cf_path: str, runner, sendmail: str = DEFAULT_BINARY) -> None:
    """Have sendmail read ``candidate`` (``sendmail -C candidate -bv root``); BuildError unless it exits 0.

    As root this works with RunAsUser set too (sendmail only prints a notice).
    """
    try:
        rc, out, err = runner([sendmail, '-C', candidate] + list(VALIDATE_ARGS))
    except OSError as exc:
        raise BuildError('Could not run %s to check the new %s: %s; nothing was changed.'
                         % (sendmail, cf_path, exc.strerror or exc)) from exc
    if rc != 0:
        message = _first_line(err) or _first_line(out) or 'no message'
        raise BuildError('sendmail rejected the configuration built for %s (exit %d: %s); nothing was changed.'
                         % (cf_path, rc, _name_the_target(message, candidate, cf_path)))


def check_installed(cf_path: str, runner, sendmail: str) -> str | None:
    """Why sendmail rejects the installed ``cf_path`` as it stands (``sendmail -C cf_path -bv root``); None when it
    reads it. A host whose own configuration does not validate is not one a new configuration can be judged
    against: every later step would meet the same complaint half-way."""
    try:
        rc, out, err = runner([sendmail, '-C', cf_path] + list(VALIDATE_ARGS))
    except OSError as exc:
        return 'could not run %s to read %s: %s' % (sendmail, cf_path, exc.strerror or exc)
    if rc == 0:
        return None
    # Both streams: sendmail says what it could not do on one (can not chdir(/var/spool/mqueue/)) and why it stops on the
    # other.
    entering = [line.strip() for line in (err + out).splitlines() if 'chdir(' in line][:1]
    said = [line for line in [_first_line(err), _first_line(out)] + entering if line]
    return 'sendmail rejects the installed %s (exit %d: %s)' % (cf_path, rc, '; '.join(dict.fromkeys(said)) or 'no message')


def install_cf(candidate: str, cf_path: str, backup=None) -> str | None:
    """Replace ``cf_path`` by ``candidate`` with one rename; return the backup's path.

    ``backup`` is a callable that copies the old file and returns the copy's
    path (``module.backup_local``); it runs only when there is an old file.
    """
    backup_file = None
    if backup is not None and os.path.exists(cf_path):
        backup_file = backup(cf_path)
    os.rename(candidate, cf_path)
    return backup_file


def option_lines(text: str) -> dict:
    """Option name -> its values in order, as written in the .cf (for diffs)."""
    found = {}
    for _number, line in fold_lines(text):
        option = split_option(line) if line.startswith('O') else None
        if option:
            found.setdefault(option[0], []).append(option[1])
    return found


def option_changes(before: str | None, after: str) -> dict:
    """Options whose values differ between two .cf texts: name -> {'before': [...], 'after': [...]}.

    A missing ``before`` (no installed .cf) counts as no options.
    """
    old = option_lines(before) if before is not None else {}
    new = option_lines(after)
    return {
        name: {'before': old.get(name, []), 'after': new.get(name, [])}
        for name in sorted(set(old) | set(new)) if old.get(name, []) != new.get(name, [])
    }


def read_text(path: str):
    """(text, stat) of a file that must not be a symbolic link; (None, None) when it does not exist."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if stat.S_ISLNK(st.st_mode):
        raise BuildError('%s is a symbolic link; give the real path of the file (nothing was changed).' % path)
    with open(path, encoding='utf-8', errors='surrogateescape') as handle:
        return handle.read(), st


def read_pair(cf_path: str, mc_path: str | None) -> dict:
    """The installed .cf and its .mc (None when there is none): paths, texts and stats; neither may be a link."""
    cf_text, cf_st = read_text(cf_path)
    mc_text, mc_st = read_text(mc_path) if mc_path else (None, None)
    return {'cf': cf_path, 'mc': mc_path, 'cf_text': cf_text, 'cf_stat': cf_st, 'mc_text': mc_text, 'mc_stat': mc_st}


def prepare(pair: dict, source: str, mc_new: str | None, options: dict, runner, m4: str | None, cf_edits=()) -> dict:
    """The change that makes ``pair`` hold ``mc_new`` (None: the .mc as it is) and ``options`` (name -> value).

    ``source`` ``mc`` rebuilds the .cf from the new .mc with m4; ``cf`` edits the options of the
    installed .cf in place, then applies each of ``cf_edits`` (functions of the text: what has no
    single option line) and keeps its other lines. Returns the pair with ``source``, ``mc_new``,
    ``cf_new``, ``mc_changed``, ``cf_changed``, ``cf_changes`` (options before and after) and, for a
    rebuild, ``dropped`` (lines of the installed .cf the rebuild does not make). Raises BuildError.
    """
    mc_new = pair['mc_text'] if mc_new is None else mc_new
    if source == 'mc':
        if mc_new is None:
            raise BuildError('%s has no .mc to rebuild it from; nothing was changed.' % pair['cf'])
        cf_new = render_cf(mc_new, pair['mc'], pair['cf'], runner, m4=m4 or 'm4')
        stale = pair['cf_stat'] is None or pair['mc_stat'] is None or pair['cf_stat'].st_mtime_ns < pair['mc_stat'].st_mtime_ns
        difference = compare(pair['cf_text'] or '', cf_new)
        cf_changed = mc_new != pair['mc_text'] or stale or not agrees(difference)
        dropped = difference['only_installed']
        if dropped and mc_new != pair['mc_text'] and pair['mc_text'] is not None:
            # Lines the .mc edit itself removes are not lost: only those the old .mc did not make either.
            try:
                dropped = compare(pair['cf_text'] or '', render_cf(pair['mc_text'], pair['mc'], pair['cf'], runner, m4=m4 or 'm4'))[
                    'only_installed']
            except BuildError:
                pass
    else:
        if pair['cf_text'] is None:
            raise BuildError('%s does not exist, so it cannot be edited in place; nothing was changed.' % pair['cf'])
        cf_new = pair['cf_text']
        try:
            for name, value in options.items():
                cf_new = set_option(cf_new, name, value)
            for edit in cf_edits:
                cf_new = edit(cf_new)
        except CfEditError as exc:
            raise BuildError('Cannot edit %s: %s; nothing was changed.' % (pair['cf'], exc)) from exc
        cf_changed, dropped = cf_new != pair['cf_text'], []
    return dict(pair, source=source, mc_new=mc_new, cf_new=cf_new, mc_changed=mc_new != pair['mc_text'], cf_changed=cf_changed,
                cf_changes=option_changes(pair['cf_text'], cf_new) if cf_changed else {}, dropped=dropped)


def check(change: dict, runner, sendmail: str, workdir: str, text: str | None = None) -> None:
    """Have sendmail read the change's new .cf (or ``text``) from a candidate in ``workdir``; install nothing."""
    if not change['cf_changed'] and text is None:
        return
    candidate = write_candidate(change['cf_new'] if text is None else text, workdir, change['cf'], change['cf_stat'])
    try:
        validate_cf(candidate, change['cf'], runner, sendmail=sendmail)
    finally:
        discard(candidate)


def _id(name: str, group: bool = False) -> int:
    if name.isdigit():
        return int(name)
    return grp.getgrnam(name).gr_gid if group else pwd.getpwnam(name).pw_uid


def queue_stand_in(text: str, planned: dict) -> tuple:
    """(text, directory): ``text`` with its QueueDirectory moved to a private stand-in that has the owner, group
    and mode the plan leaves the queue with; (None, None) when the .cf's queue is none of ``planned``.

    A new RunAsUser is validated before the queue is handed to that user (the handover follows the new .cf,
    which a root daemon on the old one would not accept): sendmail -bv, running as the new RunAsUser, would
    otherwise be refused the queue the plan is about to give it. ``planned``: queue path -> {owner, group,
    mode}. The stand-in's parent is root's, 0711, so the user can reach the queue and nothing else in it;
    ``discard_stand_in`` removes both.
    """
    queue = parse_cf(text)['options'].get('QueueDirectory')
    attributes = planned.get((queue or '').rstrip('/')) if queue and '*' not in queue else None
    if not attributes:
        return None, None
    parent = tempfile.mkdtemp(prefix='sendmail_harden.queue.')
    try:
        os.chmod(parent, 0o711)
        directory = os.path.join(parent, 'q')
        os.mkdir(directory, 0o700)
        os.chown(directory, _id(attributes['owner']), _id(attributes['group'], group=True))
        os.chmod(directory, int(attributes['mode'], 8) & 0o7777)
    except OSError:
        discard_stand_in(parent)
        raise
    return set_option(text, 'QueueDirectory', directory), parent


def discard_stand_in(parent: str | None) -> None:
    """Remove a stand-in queue made by ``queue_stand_in`` (empty: sendmail -bv queues nothing)."""
    if not parent:
        return
    for name in os.listdir(parent):
        os.rmdir(os.path.join(parent, name))
    os.rmdir(parent)


def commit(change: dict, runner, sendmail: str, write_mc, backup=None, validate=None) -> list:
    """Install a prepared change: the candidate beside the .cf, sendmail's check, the .mc, then the rename.

    ``write_mc(path, text)`` replaces the .mc atomically; ``backup(path)`` copies a file and returns
    the copy; ``validate(candidate)``, where given, has sendmail read the candidate in place of
    ``validate_cf`` (a new RunAsUser is read with a stand-in for the queue the plan hands over after it).
    Returns the copies made. On any failure the .mc is put back and the error is raised again.
    """
    backups = []
    if not change['cf_changed']:
        if change['mc_changed']:
            backups.extend([backup(change['mc'])] if backup else [])
            write_mc(change['mc'], change['mc_new'])
        return backups
    # Owner and mode as the .cf has them now: path fixes made since it was read are kept.
    try:
        like = os.stat(change['cf'])
    except FileNotFoundError:
        like = None
    candidate = write_candidate(change['cf_new'], os.path.dirname(change['cf']) or '.', change['cf'], like)
    written = False
    copy = None
    try:
        if validate is None:
            validate_cf(candidate, change['cf'], runner, sendmail=sendmail)
        else:
            validate(candidate)
        # The copy of the old .cf is made before the .mc is touched: a failing copy changes nothing.
        copy = backup(change['cf']) if backup is not None and like is not None else None
        if change['mc_changed']:
            backups.extend([backup(change['mc'])] if backup else [])
            write_mc(change['mc'], change['mc_new'])
            written = True
        install_cf(candidate, change['cf'])
        candidate = None
    except Exception:
        if written:
            write_mc(change['mc'], change['mc_text'])
            os.utime(change['mc'], ns=(change['mc_stat'].st_atime_ns, change['mc_stat'].st_mtime_ns))
        raise
    finally:
        discard(candidate)
    if copy:
        backups.append(copy)
    if change['mc']:
        # The candidate was written before the .mc: keep the .cf from looking older than its source.
        try:
            mc_mtime = os.stat(change['mc']).st_mtime_ns
        except FileNotFoundError:
            mc_mtime = 0
        if os.stat(change['cf']).st_mtime_ns < mc_mtime:
            os.utime(change['cf'], ns=(mc_mtime, mc_mtime))
    return backups
