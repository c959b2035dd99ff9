# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Build a sendmail .cf from its .mc safely.

What Debian's /etc/mail/Makefile does, without its trap: it runs
``m4 sendmail.mc > sendmail.cf.new 2> sendmail.cf.errors || true`` and installs
the result even when m4 failed. Here m4 reads the .mc text (so a changed .mc can
be built before it is written), its output goes to a temporary file in the
directory of the target .cf, sendmail itself must accept that candidate
(``sendmail -C candidate -bv root``), and only then does a rename replace the
old .cf. Any failure leaves the old .cf as it was and removes the candidate.

Commands run through a ``runner(argv, data=None, cwd=None) -> (rc, stdout, stderr)``
callable: ``module.run_command`` in a module, a fake in unit tests.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile

from ansible_collections.mailsec.sendmail.plugins.module_utils._cf import parse_cf, split_option, fold_lines

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


def render_cf(mc_text: str, mc_path: str, cf_path: str, runner, m4: str = 'm4', trailer: bool = True) -> str:
    """The .cf text m4 makes of ``mc_text``, as if it were the file ``mc_path``.

    m4 reads the text on its standard input in the directory of the .mc (where
    ``make -C /etc/mail`` runs it). It fails with BuildError when m4 exits non-zero,
    writes anything on its standard error (sendmail's m4 files report errors with
    ``errprint`` and exit 0), or prints nothing that looks like a configuration.
    """
    try:
        rc, out, err = runner([m4], data=mc_text, cwd=os.path.dirname(mc_path) or None)
    except OSError as exc:
        raise BuildError('Could not run %s to build %s: %s; install m4 and the sendmail-cf files, nothing was changed.'
                         % (m4, cf_path, exc.strerror or exc)) from exc
    if rc != 0 or (err or '').strip():
        raise BuildError('m4 could not build %s from %s (exit %d: %s); fix the .mc, nothing was changed.'
                         % (cf_path, mc_path, rc, _first_line(err) or 'no message'))
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


def validate_cf(candidate: str, cf_path: str, runner, sendmail: str = '/usr/sbin/sendmail') -> None:
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
        raise BuildError('sendmail rejected the configuration built for %s (exit %d: %s); fix the .mc, nothing was changed.'
                         % (cf_path, rc, _name_the_target(message, candidate, cf_path)))


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


def cf_signature(text: str) -> dict:
    """What sendmail reads from a .cf that a rebuild may change: options, classes, the V line."""
    parsed = parse_cf(text)
    return {'options': parsed['occurrences'], 'classes': parsed['classes'], 'class_files': parsed['class_files'],
            'version_level': parsed['version_level']}


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


def build_cf(mc_text: str, mc_path: str, cf_path: str, runner, m4: str = 'm4', sendmail: str = '/usr/sbin/sendmail',
             install: bool = True, workdir: str | None = None, backup=None, trailer: bool = True,
             rendered: str | None = None, before_install=None) -> dict:
    """Render, validate and (``install``) atomically install the .cf of ``mc_text``.

    The candidate is written in ``workdir`` (default: the directory of ``cf_path``,
    which the final rename needs; a check run passes a private directory) with the
    installed .cf's owner, group and mode. ``rendered`` is a render_cf result to
    use instead of running m4 again; ``before_install()`` runs once sendmail has
    accepted the candidate, just before the rename (to write the .mc). Returns
    ``text`` (the new .cf), ``installed`` and ``backup_file``. On any failure
    BuildError (or OSError) is raised, the candidate is removed and ``cf_path``
    is untouched.
    """
    text = rendered if rendered is not None else render_cf(mc_text, mc_path, cf_path, runner, m4=m4, trailer=trailer)
    directory = os.path.dirname(cf_path) or '.'
    if install and workdir and os.path.realpath(workdir) != os.path.realpath(directory):
        raise BuildError('The candidate for %s must be written in its own directory to be installed; leave workdir unset.' % cf_path)
    try:
        like = os.stat(cf_path)
    except FileNotFoundError:
        like = None
    candidate = write_candidate(text, workdir or directory, cf_path, like)
    try:
        validate_cf(candidate, cf_path, runner, sendmail=sendmail)
        if not install:
            return {'text': text, 'installed': False, 'backup_file': None}
        if before_install is not None:
            before_install()
        backup_file = install_cf(candidate, cf_path, backup=backup)
        candidate = None
        return {'text': text, 'installed': True, 'backup_file': backup_file}
    finally:
        discard(candidate)


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
