# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""What RunAsUser breaks on a host: the deliveries that need sendmail to be root.

With RunAsUser the daemon is that user for good. It then reads every ~/.forward and :include:
file as that user, and runs every program and writes every file of a delivery as that user,
not as the recipient. The local delivery agent gets no root either, unless it is set-user-id
root itself. ``scan`` reads the host (it never writes) and returns the items found, each with
its evidence: path, owner, group, mode and the line. The rest are pure functions.

Access is judged from the owner, group and mode bits of every directory on the way and of the
file, and of the file a link leads to (ACLs are not read), for the RunAsUser's uid and the one
group sendmail keeps (``setgroups`` to RunAsUser's group alone, in ``drop_privileges``).

With RunAsUser, sendmail also marks every address it reads from a .forward or :include: file as
unsafe for programs and files, and refuses those unless DontBlameSendmail has NonRootSafeAddr: such
a delivery is an item whoever it would run as.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import socket
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._aliases import entries as alias_entries, split_targets, target_kind
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import run_as_parts
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import DEFAULT_FORWARD_PATH
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEFAULT_SASLDB, SASL_CONFIG_DIRS, handover

# Nested :include: lists followed at most this deep (sendmail stops at MAXRCRSN, 10).
MAX_DEPTH = 10
# Lines of a file kept as evidence; a .forward is a few lines, a list may be long.
MAX_LINES = 5
# The first bytes read of a .forward or :include: list (alias files are read whole).
MAX_READ = 1 << 20
# An absent path, as opposed to one root cannot look at (NFS, loops): that one is not judged.
ABSENT = (errno.ENOENT, errno.ENOTDIR)
# Local delivery agents that hand the message on: the agents they run, in the order they look for them
# (Debian's sensible-mda runs the first of its links in smrsh's directory).
HANDOVER = handover()


def identity(name: str, uid: int, gid: int) -> dict:
    """The ids the RunAsUser has once sendmail gave up root: its uid and its one group."""
    return {'name': name, 'uid': uid, 'gids': [gid]}


def allowed(st_uid: int, st_gid: int, st_mode: int, who: dict, bits: int) -> bool:
    """Whether ``who`` has ``bits`` (4 read, 2 write, 1 search) on a file with that owner, group and mode."""
    if who['uid'] == 0:
        return True
    if st_uid == who['uid']:
        return (st_mode >> 6) & bits == bits
    if st_gid in who['gids']:
        return (st_mode >> 3) & bits == bits
    return st_mode & bits == bits


def expand_forward_path(value: str | None, user: str, home: str, host: str) -> list:
    """The ForwardPath candidates of one user: $z home, $u user, $w host name; a candidate with any
    other macro is left out (sendmail would expand it at delivery time). Unset (None) is sendmail's
    default, $z/.forward; set empty, no file is read."""
    found = []
    for item in (DEFAULT_FORWARD_PATH if value is None else value).split(':'):
        item = item.strip().replace('$z', home).replace('$u', user).replace('$w', host)
        if item.startswith('/') and '$' not in item:
            found.append(os.path.normpath(item))
    return found


def list_lines(text: str) -> list:
    """(line number, line, targets) of a .forward or :include: file; comments and blank lines left out."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        found.append((number, line.strip(), [target_kind(target) for target in split_targets(line)]))
    return found


def alias_lines(text: str) -> list:
    """(line number, name, right-hand side, targets) of an alias file (see _aliases.entries)."""
    return [(entry['line'], entry['name'], entry['rhs'], [tuple(target) for target in entry['targets']])
            for entry in alias_entries(text)]


def run_as_name(value: str | None) -> str | None:
    """The user of a DefaultUser or RunAsUser value."""
    return run_as_parts(value)[0]


class _Reader:
    """Stat and read the host's files once each, as root; every error is a finding, never an exception."""

    def __init__(self):
        self.stats = {}
        self.errors = {}
        self.names = {}

    def stat(self, path: str):
        """The path's stat (links followed), or None; why root could not look at it goes to ``errors``."""
        if path not in self.stats:
            try:
                self.stats[path] = os.stat(path)
            except OSError as exc:
                self.stats[path] = None
                if exc.errno not in ABSENT:
                    self.errors[path] = exc.strerror or str(exc)
            except ValueError as exc:  # a NUL byte in a name from a file
                self.stats[path] = None
                self.errors[path] = str(exc)
        return self.stats[path]

    def read(self, path: str, limit: int | None = MAX_READ) -> str | None:
        try:
            with open(path, 'rb') as handle:
                data = handle.read(limit) if limit else handle.read()
        except (OSError, ValueError):
            return None
        return data.decode('utf-8', 'surrogateescape')

    def _name(self, kind: str, number: int, lookup) -> str:
        if (kind, number) not in self.names:
            try:
                self.names[(kind, number)] = lookup(number)
            except KeyError:
                self.names[(kind, number)] = str(number)
        return self.names[(kind, number)]

    def owner(self, uid: int) -> str:
        return self._name('user', uid, lambda number: pwd.getpwuid(number).pw_name)

    def group(self, gid: int) -> str:
        return self._name('group', gid, lambda number: grp.getgrgid(number).gr_name)

    def entry(self, path: str) -> dict:
        st = self.stat(path)
        if st is None:
            return {'path': path, 'owner': None, 'group': None, 'mode': None}
        return {'path': path, 'owner': self.owner(st.st_uid), 'group': self.group(st.st_gid), 'mode': '%04o' % stat.S_IMODE(st.st_mode)}

    def blocker(self, path: str, who: dict) -> dict | None:
        """The first directory ``who`` cannot search on the way to ``path``, or ``path`` if it cannot read
        it; where ``path`` is or passes a link, the way to the file it leads to too."""
        found = self._blocker(path, who)
        if found is None:
            real = os.path.realpath(path)
            if real != path:
                found = self._blocker(real, who)
        return found

    def _blocker(self, path: str, who: dict) -> dict | None:
        parts = path.split('/')
        for index in range(1, len(parts)):
            directory = '/'.join(parts[:index]) or '/'
            st = self.stat(directory)
            if st is None or not allowed(st.st_uid, st.st_gid, st.st_mode, who, 1):
                return self.entry(directory)
        st = self.stat(path)
        if st is None or not allowed(st.st_uid, st.st_gid, st.st_mode, who, 4):
            return self.entry(path)
        return None


def _item(kind: str, entry: dict, problem: str, line=None, user=None, via=None) -> dict:
    return {'kind': kind, 'user': user, 'path': entry['path'], 'owner': entry['owner'], 'group': entry['group'],
            'mode': entry['mode'], 'line': line, 'via': via, 'problem': problem}


def _blocked_text(who: dict, blocker: dict, path: str) -> str:
    where = '' if blocker['path'] == path else ' (%s is %s:%s %s)' % (
        blocker['path'], blocker['owner'], blocker['group'], blocker['mode'])
    return '%s cannot read it%s' % (who['name'], where)


class Scan:
    """One host's scan for one RunAsUser.

    ``nonroot_safe``: DontBlameSendmail has NonRootSafeAddr, so sendmail runs the programs and files of
    .forward and :include: files as the RunAsUser instead of refusing them. ``stripped``: paths the
    same hardening takes the set-user-id bit from (SM-SETUID-01), judged as if it were gone.
    """

    def __init__(self, who: dict, default_user: str | None, nonroot_safe: bool = False, stripped=(), reader: _Reader | None = None):
        self.who = who
        self.default_user = default_user
        self.nonroot_safe = nonroot_safe
        self.stripped = set(stripped)
        self.reader = reader or _Reader()
        self.items = []
        self.seen = set()

    def runs_as(self, path: str, fallback: str | None) -> str | None:
        """Who sendmail runs a list's programs as, without RunAsUser: the list's owner, or ``fallback`` for root's."""
        st = self.reader.stat(path)
        if st is None or st.st_uid == 0:
            return fallback
        return self.reader.owner(st.st_uid)

    def writer(self, path: str, as_user: str | None) -> str | None:
        """Who writes a file delivery today: the owner of a set-user-id file (sendmail's own rule), else ``as_user``."""
        st = self.reader.stat(path)
        if st is not None and stat.S_ISREG(st.st_mode) and st.st_mode & stat.S_ISUID:
            return self.reader.owner(st.st_uid)
        return as_user

    def delivery(self, kind: str, entry: dict, target_type: str, value: str, as_user: str | None, line: str, user) -> None:
        """A program or file delivery that would run as the RunAsUser instead of who runs it today, or
        (from a .forward or a list, without NonRootSafeAddr) be refused."""
        if target_type == 'file':
            as_user = self.writer(value, as_user)
        what = 'the program %s' % value if target_type == 'program' else 'the file %s' % value
        if kind != 'alias' and not self.nonroot_safe:
            problem = ('%s (run as %s today) is refused as unsafe with RunAsUser: an address read from a %s is unsafe for '
                       'programs and files without DontBlameSendmail NonRootSafeAddr, and mail to it bounces'
                       % (what, as_user or 'its owner', 'list' if kind == 'include' else '.forward'))
        elif as_user == self.who['name']:
            return
        else:
            problem = '%s %s as %s, not as %s' % ('runs' if target_type == 'program' else 'writes', value, self.who['name'],
                                                  as_user or 'its owner')
        self.items.append(_item(kind, entry, problem, line, user))

    def deliveries(self, kind: str, path: str, lines: list, as_user: str | None, user=None, depth: int = 0) -> None:
        """The programs, files and nested lists of a readable file whose deliveries run as ``as_user`` today."""
        entry = self.reader.entry(path)
        for number, line, targets in lines:
            for target_type, value in targets:
                if target_type in ('program', 'file'):
                    self.delivery(kind, entry, target_type, value, as_user, '%d: %s' % (number, line), user)
                elif target_type == 'include':
                    self.include(value, as_user, user, via=path, depth=depth + 1)

    def unjudged(self, kind: str, path: str, user, via=None) -> None:
        self.items.append(_item(kind, self.reader.entry(path), 'root cannot look at it (%s): not judged, so not known to '
                                'work with RunAsUser' % self.reader.errors[path], None, user, via))

    def reads(self, kind: str, path: str, what: str) -> None:
        """A file the daemon itself reads once it runs as the RunAsUser (an absent one is not judged here)."""
        if self.reader.stat(path) is None and path not in self.reader.errors:
            return
        if path in self.reader.errors:
            self.unjudged(kind, path, None)
            return
        blocker = self.reader.blocker(path, self.who)
        if blocker is not None:
            self.items.append(_item(kind, self.reader.entry(path), _blocked_text(self.who, blocker, path) + ': ' + what))

    def include(self, path: str, fallback: str | None, user=None, via=None, depth: int = 0) -> None:
        path = os.path.normpath(path) if path.startswith('/') else path
        if depth > MAX_DEPTH or (path, fallback) in self.seen or not path.startswith('/'):
            return
        self.seen.add((path, fallback))
        blocker = self.reader.blocker(path, self.who)
        if path in self.reader.errors:
            self.unjudged('include', path, user, via)
            return
        if blocker is not None:
            problem = _blocked_text(self.who, blocker, path) + ': the list does not expand and mail to it bounces'
            self.items.append(_item('include', self.reader.entry(path), problem, None, user, via))
            return
        text = self.reader.read(path) or ''
        self.deliveries('include', path, list_lines(text), self.runs_as(path, fallback), user, depth)

    def forward(self, user: str, candidates: list) -> None:
        """The file sendmail takes today, the first ForwardPath file that exists; with RunAsUser it passes
        over every one it cannot read, to the next (or to the mailbox)."""
        existing = []
        for path in candidates:
            st = self.reader.stat(path)
            if path in self.reader.errors:
                self.unjudged('forward', path, user)
                return
            if st is not None and stat.S_ISREG(st.st_mode):
                existing.append(path)
        if not existing or existing[0] in self.seen:
            return  # a home shared by several accounts is judged once
        path = existing[0]
        self.seen.add(path)
        lines = list_lines(self.reader.read(path) or '')
        blocker = self.reader.blocker(path, self.who)
        if blocker is None:
            self.deliveries('forward', path, lines, user, user)
            return
        instead = next((other for other in existing[1:] if self.reader.blocker(other, self.who) is None), None)
        shown = '; '.join('%d: %s' % (number, line) for number, line, _targets in lines[:MAX_LINES])
        self.items.append(_item('forward', self.reader.entry(path), _blocked_text(self.who, blocker, path) + ': mail to %s %s' % (
            user, 'follows %s instead' % instead if instead else 'goes to the mailbox instead'), shown or None, user))

    def aliases(self, path: str) -> None:
        text = self.reader.read(path, limit=None)
        if text is None:
            return
        fallback = self.runs_as(path, self.default_user)
        entry = self.reader.entry(path)
        for number, name, rhs, targets in alias_lines(text):
            for target_type, value in targets:
                if target_type in ('program', 'file'):
                    self.delivery('alias', entry, target_type, value, fallback, '%d: %s: %s' % (number, name, rhs), name)
                elif target_type == 'include':
                    self.include(value, fallback, name, via=path)

    def set_user_id_root(self, path: str) -> bool:
        st = self.reader.stat(path)
        if st is None or st.st_uid != 0 or not st.st_mode & stat.S_ISUID:
            return False
        return os.path.realpath(path) not in self.stripped and path not in self.stripped

    def local_mailer(self, mailer: dict | None) -> None:
        """The local delivery agent writes users' mailboxes: it needs root, or to be set-user-id root itself,
        or to hand the message to an agent that is (the first of its HANDOVER that exists)."""
        if not mailer or not (mailer.get('path') or '').startswith('/'):
            return
        if self.reader.stat(mailer['path']) is None or self.set_user_id_root(mailer['path']):
            return  # a missing agent delivers nothing, with or without RunAsUser
        handover = next((path for path in HANDOVER.get(os.path.basename(mailer['path']), ())
                         if self.reader.stat(path) is not None), None)
        if handover and self.set_user_id_root(handover):
            return
        entry = self.reader.entry(mailer['path'])
        self.items.append(_item('local_mailer', entry, 'the local delivery agent runs as %s and is not set-user-id root%s: '
                                'it cannot write mailboxes as their users' % (
                                    self.who['name'], ' once the hardening drops that bit' if mailer['path'] in self.stripped else ''),
                                'Mlocal, P=%s, A=%s' % (mailer['path'], mailer.get('argv') or '')))


# Where Cyrus SASL looks for an application's configuration (sendmail's is Sendmail.conf), in its order.
# Cyrus SASL's own default for the sasldb plugin.
# The certificates STARTTLS reads (the keys are SM-TLS-01's, which hands them to the RunAsUser).
TLS_FILES = ('ServerCertFile', 'ClientCertFile', 'CACertFile')


def sasl_files(read, dirs=None) -> list:
    """The files SMTP AUTH reads: the first Sendmail.conf, and the SASL database where passwords are checked
    against one (pwcheck_method auxprop, plugin sasldb: Cyrus SASL's defaults); ``read(path)`` -> text or None."""
    for directory in dirs or SASL_CONFIG_DIRS:
        path = os.path.join(directory, 'Sendmail.conf')
        text = read(path)
        if text is None:
            continue
        conf = {}
        for line in text.splitlines():
            key, sep, value = line.partition(':')
            if sep and not key.lstrip().startswith('#'):
                conf[key.strip()] = value.strip()
        methods, plugins = conf.get('pwcheck_method', 'auxprop').split(), conf.get('auxprop_plugin', 'sasldb').split()
        uses_sasldb = 'auxprop' in methods and 'sasldb' in plugins
        return [path] + ([conf.get('sasldb_path') or DEFAULT_SASLDB] if uses_sasldb else [])
    return [DEFAULT_SASLDB]


def users_of_host():
    """(name, home) of every account the passwd database lists."""
    return [(entry.pw_name, entry.pw_dir) for entry in pwd.getpwall()]


def scan(who: dict, mta: dict, alias_sources: list, users=None, host: str | None = None, stripped=()) -> dict:
    """The deliveries RunAsUser ``who`` (see ``identity``) breaks, on the MTA configuration ``mta``
    (``settings`` and ``mailers`` as _read_state reads them) and the alias source files ``alias_sources``;
    ``stripped``: the files the hardening takes the set-user-id bit from."""
    settings = mta.get('settings') or {}
    nonroot_safe = 'nonrootsafeaddr' in [word.lower() for word in settings.get('DontBlameSendmail') or []]
    found = Scan(who, run_as_name(settings.get('DefaultUser')), nonroot_safe, stripped)
    host = host or socket.gethostname().split('.')[0]
    homes = set()
    for user, home in users if users is not None else users_of_host():
        if not home or not home.startswith('/') or (user, home) in homes:
            continue
        homes.add((user, home))
        found.forward(user, expand_forward_path(settings.get('ForwardPath'), user, home, host))
    for path in alias_sources:
        found.aliases(path)
    found.local_mailer((mta.get('mailers') or {}).get('local'))
    for name in TLS_FILES:
        if settings.get(name):
            found.reads('tls', settings[name], 'STARTTLS goes off without a word')
    if settings.get('AuthMechanisms'):
        for path in sasl_files(found.reader.read):
            found.reads('auth', path, 'SMTP AUTH fails (535) for every user')
    return {'user': who['name'], 'users_scanned': len(homes), 'items': found.items}


def items_text(items: list, limit: int) -> str:
    """The first ``limit`` items, one ``item_text`` each, and how many more there are."""
    shown = '; '.join(item_text(item) for item in items[:limit])
    return shown + ('; and %d more' % (len(items) - limit) if len(items) > limit else '')


def item_text(item: dict) -> str:
    """One line of evidence: path, owner, group, mode, the line, the problem."""
    attributes = '%s:%s %s' % (item['owner'], item['group'], item['mode']) if item['mode'] else 'absent'
    text = '%s (%s)' % (item['path'], attributes)
    if item.get('via'):
        text += ' named in %s' % item['via']
    if item.get('line'):
        text += ' [%s]' % item['line']
    return text + ': ' + item['problem']
