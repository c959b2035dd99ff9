# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_safefs
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_safefs import (
    UnsafePath, apply_attributes, resolve_gid, resolve_mode, resolve_uid, writable_by_others,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='changing owners needs root')

# Plain numbers: the tests do not depend on the names in this machine's passwd and group files.
USER = 4242
GROUP = 4343


def owner_mode(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def make_file(path, mode=0o644, uid=0, gid=0, text='x'):
    path.write_text(text)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


@pytest.fixture
def secret(tmp_path_factory):
    """A root-only file outside the directories being fixed: /etc/shadow's stand-in."""
    return make_file(tmp_path_factory.mktemp('etc') / 'shadow', 0o640, 0, 0, 'root:*:')


@pytest.fixture
def queue(tmp_path):
    """A client queue as Debian ships it: group-writable by a non-root group."""
    directory = tmp_path / 'mqueue-client'
    directory.mkdir()
    os.chown(directory, USER, GROUP)
    os.chmod(directory, 0o2770)
    return directory


def test_changes_owner_group_mode(tmp_path):
    path = make_file(tmp_path / 'sendmail.cf', 0o664)
    result = apply_attributes(str(path), owner=str(USER), group=GROUP, mode='0644')
    assert result['changed'] is True
    assert result['kind'] == 'file'
    assert result['before']['mode'] == '0664'
    assert (result['before']['uid'], result['before']['gid']) == (0, 0)
    assert (result['after']['uid'], result['after']['gid'], result['after']['mode']) == (USER, GROUP, '0644')
    assert owner_mode(path) == (USER, GROUP, 0o644)
    again = apply_attributes(str(path), owner=USER, group=GROUP, mode=0o644)
    assert again['changed'] is False
    assert again['before'] == again['after'] == result['after']


def test_set_id_bits_survive_the_chown(tmp_path):
    """fchown clears set-user-id and set-group-id bits: the mode is set after it."""
    path = make_file(tmp_path / 'sendmail', 0o4755)
    result = apply_attributes(str(path), group=GROUP, mode='2755')
    assert owner_mode(path) == (0, GROUP, 0o2755)
    assert result['after']['mode'] == '2755'
    # no mode given: the mode it had is kept across the chown
    make_file(tmp_path / 'keep', 0o2755)
    apply_attributes(str(tmp_path / 'keep'), owner=USER)
    assert owner_mode(tmp_path / 'keep') == (USER, 0, 0o2755)


def test_check_mode_computes_the_same_answer(tmp_path):
    path = make_file(tmp_path / 'f', 0o4755)
    checked = apply_attributes(str(path), owner=USER, group=GROUP, mode=0o750, check_mode=True)
    assert owner_mode(path) == (0, 0, 0o4755)
    done = apply_attributes(str(path), owner=USER, group=GROUP, mode=0o750)
    assert checked == done
    assert owner_mode(path) == (USER, GROUP, 0o750)


def test_directory_with_set_group_id(tmp_path):
    directory = tmp_path / 'mqueue'
    directory.mkdir()
    os.chmod(directory, 0o777)
    result = apply_attributes(str(directory), owner=USER, group=GROUP, mode='2750')
    assert result['kind'] == 'directory'
    assert owner_mode(directory) == (USER, GROUP, 0o2750)


def test_symlink_is_refused_and_its_target_unchanged(queue, secret):
    link = queue / 'qfABC'
    link.symlink_to(secret)
    with pytest.raises(UnsafePath, match=r'qfABC is a symbolic link \(to .*shadow\); refusing to follow it'):
        apply_attributes(str(link), owner=USER, group=GROUP, mode=0o666)
    assert owner_mode(secret) == (0, 0, 0o640)
    with pytest.raises(UnsafePath):
        apply_attributes(str(link), owner=USER, check_mode=True)


def test_one_link_followed_on_purpose(tmp_path):
    target = make_file(tmp_path / 'aliases')
    (tmp_path / 'mail').mkdir()
    link = tmp_path / 'mail' / 'aliases'
    link.symlink_to('../aliases')
    result = apply_attributes(str(link), owner=USER, mode=0o640, follow=True)
    assert result['followed'] == str(target)
    assert result['path'] == str(link)
    assert owner_mode(target) == (USER, 0, 0o640)
    assert os.path.islink(link)
    # a link to a link: only one is followed
    (tmp_path / 'mail' / 'second').symlink_to('aliases')
    with pytest.raises(UnsafePath, match='symbolic link'):
        apply_attributes(str(tmp_path / 'mail' / 'second'), owner=0, follow=True)


def test_hard_link_in_group_writable_directory_is_refused(queue, secret):
    os.link(secret, queue / 'dfABC')
    with pytest.raises(UnsafePath, match='dfABC has 2 hard links in a directory others can write to'):
        apply_attributes(str(queue / 'dfABC'), owner=USER, group=GROUP, mode=0o660)
    assert owner_mode(secret) == (0, 0, 0o640)


def test_hard_link_in_root_only_directory_is_allowed(tmp_path):
    directory = tmp_path / 'root-only'
    directory.mkdir(mode=0o755)
    make_file(directory / 'a', 0o600)
    os.link(directory / 'a', directory / 'b')
    apply_attributes(str(directory / 'b'), mode=0o644)
    assert owner_mode(directory / 'a') == (0, 0, 0o644)


def test_file_replaced_by_symlink_after_lstat(queue, secret, monkeypatch):
    """The race: the checked file is swapped for a link before it is opened; O_NOFOLLOW stops it."""
    path = make_file(queue / 'qfXYZ', 0o660, USER, GROUP)
    real_stat = os.stat

    def stat_then_swap(name, *args, **kwargs):
        result = real_stat(name, *args, **kwargs)
        if name == 'qfXYZ':
            os.unlink(path)
            os.symlink(str(secret), str(path))
        return result

    monkeypatch.setattr(_apply_safefs.os, 'stat', stat_then_swap)
    with pytest.raises(UnsafePath, match='qfXYZ changed while it was being checked'):
        apply_attributes(str(path), owner=0, group=0, mode=0o600)
    monkeypatch.undo()
    assert owner_mode(secret) == (0, 0, 0o640)


def test_file_replaced_by_other_file_after_lstat(queue, secret, monkeypatch):
    """A hard link renamed over the checked file: the (device, inode) of the opened file differs."""
    path = make_file(queue / 'qfXYZ', 0o660, USER, GROUP)
    real_stat = os.stat

    def stat_then_swap(name, *args, **kwargs):
        result = real_stat(name, *args, **kwargs)
        if name == 'qfXYZ':
            os.link(secret, queue / 'planted')
            os.rename(queue / 'planted', path)
        return result

    monkeypatch.setattr(_apply_safefs.os, 'stat', stat_then_swap)
    with pytest.raises(UnsafePath, match='qfXYZ was replaced by another file'):
        apply_attributes(str(path), owner=USER, group=GROUP, mode=0o666)
    monkeypatch.undo()
    assert owner_mode(secret) == (0, 0, 0o640)


def test_o_nofollow_refuses_a_link(queue, secret):
    (queue / 'link').symlink_to(secret)
    with pytest.raises(OSError):
        os.open(str(queue / 'link'), _apply_safefs._OPEN_FLAGS)


def test_special_files_are_refused(tmp_path):
    os.mkfifo(tmp_path / 'fifo')
    with pytest.raises(UnsafePath, match='neither a regular file nor a directory'):
        apply_attributes(str(tmp_path / 'fifo'), mode=0o600)


def test_inputs():
    assert resolve_mode('2755') == 0o2755
    assert resolve_mode('0o750') == 0o750
    assert resolve_mode(0o644) == 0o644
    assert resolve_mode(None) is None
    with pytest.raises(ValueError, match='not an octal number'):
        resolve_mode('u+x')
    with pytest.raises(ValueError, match='out of range'):
        resolve_mode(0o17777)
    assert resolve_uid('0') == 0
    assert resolve_uid('root') == 0
    assert resolve_gid('0') == 0
    with pytest.raises(ValueError, match='user no-such-user-here does not exist'):
        resolve_uid('no-such-user-here')
    with pytest.raises(ValueError, match='group no-such-group-here does not exist'):
        resolve_gid('no-such-group-here')


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        apply_attributes(str(tmp_path / 'nothing'), mode=0o600)


def test_writable_by_others(tmp_path):
    directory = tmp_path / 'd'
    directory.mkdir()
    for uid, gid, mode, expected in ((0, 0, 0o755, False), (0, 0, 0o775, False), (0, GROUP, 0o775, True),
                                     (0, 0, 0o1777, True), (USER, 0, 0o700, True)):
        os.chown(directory, uid, gid)
        os.chmod(directory, mode)
        assert writable_by_others(os.stat(directory)) is expected


def test_a_directory_swapped_for_a_link_in_a_queue_is_refused(tmp_path):
    """The qf subdirectory of a queue others can write to, replaced by a link to a root-only directory
    between the listing and the change: root must not change the file it now leads to."""
    queue = tmp_path / 'queue'
    (queue / 'qf').mkdir(parents=True)
    queue.chmod(0o777)
    private = tmp_path / 'private'
    private.mkdir(mode=0o700)
    (private / 'victim').write_text('secret')
    os.chmod(str(private / 'victim'), 0o600)
    os.rmdir(str(queue / 'qf'))
    os.symlink(str(private), str(queue / 'qf'))
    with pytest.raises(UnsafePath, match='symbolic link in a directory others can write to'):
        apply_attributes(str(queue / 'qf' / 'victim'), mode='0666')
    assert os.stat(str(private / 'victim')).st_mode & 0o777 == 0o600


def test_a_link_only_root_could_have_made_is_followed(tmp_path):
    """A trusted link on the way (as /var/run -> /run): root-owned, in a directory only root writes."""
    real = tmp_path / 'real'
    real.mkdir()
    (real / 'file').write_text('x')
    os.chmod(str(tmp_path), 0o755)
    os.symlink(str(real), str(tmp_path / 'alias'))
    done = apply_attributes(str(tmp_path / 'alias' / 'file'), mode='0640')
    assert done['changed'] and os.stat(str(real / 'file')).st_mode & 0o777 == 0o640
