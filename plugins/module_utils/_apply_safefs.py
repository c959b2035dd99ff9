# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Change owner, group and mode as root without being tricked by links.

The classic attack on a root process that fixes ownership in a directory users
can write to (sendmail's group-writable client queue): plant a symbolic link or
a hard link to /etc/shadow there and wait for root to chown it. So here:

- the file is looked up relative to an open descriptor of its directory, with
  ``lstat`` first: a symbolic link is refused (unless the caller follows that
  one link on purpose) and only regular files and directories are handled;
- it is opened with ``O_NOFOLLOW|O_NONBLOCK`` (and ``O_DIRECTORY`` for a
  directory), and the ``fstat`` of the descriptor must show the same (device,
  inode) as the ``lstat``: a file swapped in between is refused;
- a regular file with more than one hard link is refused when its directory is
  writable by anyone but root;
- the change is made on the descriptor: ``fchown`` first, then ``fchmod``
  (``fchown`` clears the set-user-id and set-group-id bits).

Check mode computes the same answer, checks included, and changes nothing.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import group_name, user_name

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, 'O_CLOEXEC', 0)


class UnsafePath(Exception):
    """The path was refused; the message is one sentence naming it and why."""


def resolve_uid(owner) -> int | None:
    """uid of a user name or number; None stays None."""
    if owner is None or isinstance(owner, int):
        return owner
    owner = str(owner)
    if owner.isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise ValueError('user %s does not exist' % owner) from None


def resolve_gid(group) -> int | None:
    """gid of a group name or number; None stays None."""
    if group is None or isinstance(group, int):
        return group
    group = str(group)
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError('group %s does not exist' % group) from None


def resolve_mode(mode) -> int | None:
    """Permission bits (set-id and sticky included) of an int or an octal string such as '2755' or '0o750'."""
    if mode is None:
        return None
    if isinstance(mode, int):
        value = mode
    else:
        text = str(mode).strip().lower()
        text = text[2:] if text.startswith('0o') else text
        try:
            value = int(text, 8)
        except ValueError:
            raise ValueError('mode %s is not an octal number such as 0644 or 2755' % mode) from None
    if not 0 <= value <= 0o7777:
        raise ValueError('mode %s is out of range (0000 to 7777)' % oct(value))
    return value


def describe(st: os.stat_result) -> dict:
    """Owner, group and mode of a stat result, as reported."""
    return {'owner': user_name(st.st_uid), 'group': group_name(st.st_gid), 'uid': st.st_uid, 'gid': st.st_gid,
            'mode': '%04o' % stat.S_IMODE(st.st_mode)}


def others_can_write(owner_root: bool, group_root: bool, mode: int) -> bool:
    """Whether someone other than root can write: a non-root owner, a group other than root's with write
    permission, or anyone."""
    return not owner_root or bool(mode & stat.S_IWOTH) or bool(mode & stat.S_IWGRP and not group_root)


def writable_by_others(st: os.stat_result) -> bool:
    """Whether a directory, as it is, can be written by someone other than root."""
    return others_can_write(st.st_uid == 0, st.st_gid == 0, st.st_mode)


def _kind(st: os.stat_result) -> str:
    if stat.S_ISREG(st.st_mode):
        return 'file'
    if stat.S_ISDIR(st.st_mode):
        return 'directory'
    if stat.S_ISLNK(st.st_mode):
        return 'link'
    return 'other'


def _apply_at(dir_fd: int, dir_st: os.stat_result, name: str, display: str, uid, gid, mode, check_mode: bool,
              st: os.stat_result | None = None) -> dict:
    """Apply owner/group/mode to ``name`` in the open directory ``dir_fd`` with every check.

    ``st`` is the ``lstat`` of ``name`` when the caller has just made it.
    """
    if st is None:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    kind = _kind(st)
    if kind == 'link':
        raise UnsafePath('%s is a symbolic link (to %s); refusing to follow it, give the real path.'
                         % (display, os.readlink(name, dir_fd=dir_fd)))
    if kind == 'other':
        raise UnsafePath('%s is neither a regular file nor a directory; refusing to change it.' % display)
    if kind == 'file' and st.st_nlink > 1 and writable_by_others(dir_st):
        raise UnsafePath('%s has %d hard links in a directory others can write to (it may be a planted link to another file); '
                         'refusing to change it, remove the extra links first.' % (display, st.st_nlink))
    flags = _OPEN_FLAGS | (os.O_DIRECTORY if kind == 'directory' else 0)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        raise UnsafePath('%s changed while it was being checked (%s); refusing to change it, try again.'
                         % (display, exc.strerror or exc)) from exc
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            raise UnsafePath('%s was replaced by another file while it was being checked; refusing to change it, try again.'
                             % display)
        if kind == 'file' and fst.st_nlink > 1 and writable_by_others(dir_st):
            raise UnsafePath('%s gained hard links while it was being checked; refusing to change it.' % display)
        before = describe(fst)
        want_uid = fst.st_uid if uid is None else uid
        want_gid = fst.st_gid if gid is None else gid
        want_mode = stat.S_IMODE(fst.st_mode) if mode is None else mode
        chown = (want_uid, want_gid) != (fst.st_uid, fst.st_gid)
        changed = chown or want_mode != stat.S_IMODE(fst.st_mode)
        if changed and not check_mode:
            if chown:
                os.fchown(fd, want_uid, want_gid)
            # fchown cleared any set-id bits: set the mode after it, always.
            if stat.S_IMODE(os.fstat(fd).st_mode) != want_mode:
                os.fchmod(fd, want_mode)
            after = describe(os.fstat(fd))
        else:
            after = dict(before, uid=want_uid, gid=want_gid, owner=user_name(want_uid), group=group_name(want_gid),
                         mode='%04o' % want_mode)
    finally:
        os.close(fd)
    return {'path': display, 'kind': kind, 'changed': changed, 'before': before, 'after': after}


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)


def _open_directory(path: str) -> int:
    """A descriptor of directory ``path``, reached from / one component at a time.

    A symbolic link on the way is followed only where it sits in a directory no one but root can
    write to (only root can have put it there, as with /var/run -> /run); in a directory others
    can write to, such as a queue's qf subdirectory, a link is refused: it could have been swapped
    in to make root change a file elsewhere.
    """
    fd = os.open('/', _DIR_FLAGS)
    try:
        for name in [part for part in os.path.normpath(path).split('/') if part]:
            try:
                found = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR) or not stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise
                if writable_by_others(os.fstat(fd)):
                    raise UnsafePath('%s is a symbolic link in a directory others can write to; refusing to follow it to %s.'
                                     % (name, path)) from exc
                found = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = found
    except BaseException:
        os.close(fd)
        raise
    return fd


def apply_attributes(path: str, owner=None, group=None, mode=None, check_mode: bool = False, follow: bool = False) -> dict:
    """Give ``path`` an owner, a group and a mode (each None: keep), safely as root.

    ``path`` is found in its parent directory (reached from / without following a
    link that others could have planted, see _open_directory) and must not be a symbolic link unless
    ``follow`` is true: then that one link is followed, and its target must not
    be a link itself. Returns ``path``, ``kind`` (file or directory),
    ``changed``, ``before`` and ``after`` (owner, group, uid, gid, mode as an
    octal string), and ``followed`` (the target) when a link was followed.
    Raises UnsafePath when refused, ValueError for an unknown user, group or bad mode,
    and OSError (e.g. FileNotFoundError) as the system reports it.
    """
    uid, gid, mode = resolve_uid(owner), resolve_gid(group), resolve_mode(mode)
    path = os.path.abspath(path)
    parent, name = os.path.split(path)
    if not name:
        raise UnsafePath('%s has no parent directory to look it up in; give a path below /.' % path)
    dir_fd = _open_directory(parent)
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode) and follow:
            target = os.path.normpath(os.path.join(parent, os.readlink(name, dir_fd=dir_fd)))
            result = apply_attributes(target, uid, gid, mode, check_mode=check_mode, follow=False)
            result['followed'] = target
            result['path'] = path
            return result
        return _apply_at(dir_fd, os.fstat(dir_fd), name, path, uid, gid, mode, check_mode, st)
    finally:
        os.close(dir_fd)


def _root_only_directory(path: str, verb: str, trusted: bool) -> tuple:
    """(descriptor of the directory holding ``path``, the name in it); UnsafePath where others than root can
    write to the directory (unless ``trusted``: a step before fixes it, in check mode)."""
    path = os.path.abspath(path)
    parent, name = os.path.split(path)
    if not name:
        raise UnsafePath('%s has no parent directory; give a path below /.' % path)
    dir_fd = _open_directory(parent)
    if writable_by_others(os.fstat(dir_fd)) and not trusted:
        os.close(dir_fd)
        raise UnsafePath('%s can be written by others than root; refusing to %s %s there.' % (parent, verb, path))
    return dir_fd, name


def create_empty(path: str, check_mode: bool = False, parent_fixed: bool = False) -> dict:
    """Create ``path`` as an empty root:root 0644 file, in a directory only root can write to.

    The directory is reached as ``apply_attributes`` reaches it; the file is made with O_CREAT|O_EXCL
    (never through a link, never over a file that is there). In check mode, ``parent_fixed`` says that
    an earlier step makes the directory root's alone. Returns ``changed``; raises UnsafePath when
    refused, OSError as the system reports it.
    """
    dir_fd, name = _root_only_directory(path, 'create', check_mode and parent_fixed)
    try:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None:
            if stat.S_ISREG(st.st_mode) and st.st_size == 0:
                return {'changed': False}
            raise UnsafePath('%s exists and is not an empty file; refusing to empty or replace it.' % path)
        if check_mode:
            return {'changed': True}
        _create_at(dir_fd, name, b'', 0, 0, 0o644)
        return {'changed': True}
    finally:
        os.close(dir_fd)


def _create_at(dir_fd: int, name: str, data: bytes, uid: int, gid: int, mode: int) -> None:
    """Make a new file ``name`` in the open directory, never through a link nor over what is there; its owner and mode
    are set on the descriptor before the first byte is written."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), 0o600,
                 dir_fd=dir_fd)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)  # whatever the umask took away
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def create_file(path: str, data: bytes, owner, group, mode: str, check_mode: bool = False, parent_fixed: bool = False) -> dict:
    """Create ``path`` with ``data``, ``owner``, ``group`` and ``mode``, in a directory only root can write to (reached
    as ``create_empty`` reaches it); a path that exists is refused, never replaced. ``parent_fixed`` as for
    ``create_empty``. Returns ``changed``; raises UnsafePath when refused, ValueError for an unknown user or group,
    OSError as the system reports it."""
    uid, gid, bits = resolve_uid(owner), resolve_gid(group), resolve_mode(mode)
    dir_fd, name = _root_only_directory(path, 'create', check_mode and parent_fixed)
    try:
        if _exists_at(dir_fd, name):
            raise UnsafePath('%s exists; refusing to replace it.' % path)
        if not check_mode:
            _create_at(dir_fd, name, data, uid, gid, bits)
        return {'changed': True}
    finally:
        os.close(dir_fd)


def _exists_at(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def remove_entry(path: str, check_mode: bool = False, parent_fixed: bool = False) -> dict:
    """Remove ``path``, a symbolic link or a regular file, from a directory only root can write to (found as
    ``apply_attributes`` finds it; a link is removed, never followed). ``parent_fixed`` as for ``create_empty``.
    Returns ``changed``; raises UnsafePath when refused, OSError as the system reports it."""
    dir_fd, name = _root_only_directory(path, 'remove', check_mode and parent_fixed)
    try:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return {'changed': False}
        if not (stat.S_ISLNK(st.st_mode) or stat.S_ISREG(st.st_mode)):
            raise UnsafePath('%s is neither a link nor a regular file; refusing to remove it.' % path)
        if not check_mode:
            os.unlink(name, dir_fd=dir_fd)
        return {'changed': True}
    finally:
        os.close(dir_fd)
