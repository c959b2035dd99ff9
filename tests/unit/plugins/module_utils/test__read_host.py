# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import (
    candidate_paths, daemon_processes, parse_dpkg_list, parse_statoverride, parse_status, pid_file_daemons, process_role,
    read_statoverrides, setid_files,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')

STATUS = 'Name:\tsendmail-mta\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n'


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_debian_statoverride(release):
    assert read_statoverrides(os.path.join(FIXTURES, release, 'statoverride')) == [
        {'owner': 'root', 'group': 'smmsp', 'mode': '2755', 'path': '/usr/libexec/sendmail/sendmail'},
        {'owner': 'root', 'group': 'smmsp', 'mode': '2755', 'path': '/usr/libexec/sendmail/mailstats'},
    ]


def test_statoverride_edge_cases(tmp_path):
    assert parse_statoverride('root root 755 /usr/bin/x\nbroken line\n\n') == [
        {'owner': 'root', 'group': 'root', 'mode': '0755', 'path': '/usr/bin/x'},
    ]
    assert parse_statoverride('root root 0644 /srv/a file with spaces\n')[0]['path'] == '/srv/a file with spaces'
    assert read_statoverrides(str(tmp_path / 'absent')) == []


def test_dpkg_list():
    assert parse_dpkg_list('/.\n/usr\n/usr/sbin/sensible-mda\n\n') == ['/usr', '/usr/sbin/sensible-mda']


def test_setid_files(tmp_path):
    sgid = tmp_path / 'sendmail'
    sgid.write_text('')
    os.chmod(sgid, 0o2755)
    suid = tmp_path / 'sensible-mda'
    suid.write_text('')
    os.chmod(suid, 0o4755)
    plain = tmp_path / 'makemap'
    plain.write_text('')
    (tmp_path / 'link').symlink_to(suid)
    os.mkdir(tmp_path / 'dir', 0o2755)
    paths = [str(tmp_path / name) for name in ('sendmail', 'sensible-mda', 'makemap', 'link', 'dir', 'absent')]
    found = setid_files(paths)
    assert [(entry['path'], entry['mode'], entry['setuid'], entry['setgid']) for entry in found] == [
        (str(sgid), '2755', False, True),
        (str(suid), '4755', True, False),
    ]
    assert found[0]['owner'] == pwd.getpwuid(os.geteuid()).pw_name


def test_candidate_paths_read_dpkg_lists(tmp_path):
    (tmp_path / 'sendmail-bin.list').write_text('/.\n/usr/libexec/sendmail/sendmail\n/usr/sbin/sendmail-mta\n')
    paths = candidate_paths(extra=('/opt/sendmail',), list_globs=(str(tmp_path / 'sendmail*.list'),))
    assert '/usr/sbin/sendmail-mta' in paths
    assert '/opt/sendmail' in paths
    assert '/usr/sbin/sendmail.sendmail' in paths
    assert paths == sorted(paths)


def test_parse_status():
    assert parse_status(STATUS.replace('Uid:\t0\t0', 'Uid:\t0\t114')) == {'name': 'sendmail-mta', 'ppid': 1, 'uid': 0, 'euid': 114}
    assert parse_status('') == {'name': '', 'ppid': None, 'uid': None, 'euid': None}


@pytest.mark.parametrize('title, role', [
    ('sendmail: MTA: accepting connections', 'listener'),
    ('sendmail: MSP: Queue runner@00:20:00 for /var/spool/mqueue-client', 'queue_runner'),
    ('sendmail: MTA: 5AP1x2y3000123 localhost [127.0.0.1]: DATA', 'child'),
])
def test_process_role(title, role):
    assert process_role(title) == role


def fake_process(proc, pid, name, title, uid=0):
    directory = proc / str(pid)
    directory.mkdir()
    (directory / 'status').write_text(STATUS.replace('sendmail-mta', name).replace('Uid:\t0\t0', 'Uid:\t%d\t%d' % (uid, uid)))
    (directory / 'cmdline').write_bytes(title.encode() + b'\0')


def test_daemon_processes(tmp_path):
    fake_process(tmp_path, 812, 'sendmail-mta', 'sendmail: MTA: accepting connections')
    fake_process(tmp_path, 830, 'sendmail-msp', 'sendmail: MSP: Queue runner@00:20:00 for /var/spool/mqueue-client', uid=65534)
    fake_process(tmp_path, 900, 'python3', 'python3 AnsiballZ_sendmail_info.py')
    fake_process(tmp_path, 77, 'sendmail.sendma', '/usr/sbin/sendmail.sendmail -bd')
    (tmp_path / 'self').mkdir()
    found = daemon_processes(str(tmp_path))
    assert [(proc['pid'], proc['role']) for proc in found] == [(77, 'child'), (812, 'listener'), (830, 'queue_runner')]
    assert found[1]['user'] == 'root'
    assert found[2]['effective_user'] == 'nobody'
    assert daemon_processes(str(tmp_path / 'absent')) == []


def test_daemon_processes_name_their_program_and_leave_out_containers(tmp_path):
    fake_process(tmp_path, 812, 'sendmail-mta', 'sendmail: MTA: accepting connections')
    (tmp_path / '812' / 'exe').symlink_to('/usr/lib/sm.bin/sendmail (deleted)')
    fake_process(tmp_path, 640, 'smtpd', 'smtpd -n smtp')
    (tmp_path / '640' / 'exe').symlink_to('/usr/sbin/sendmail.sendmail')
    fake_process(tmp_path, 950, 'sendmail-mta', 'sendmail: MTA: accepting connections')
    for pid, namespace in (('self', 'pid:[4026531836]'), ('812', 'pid:[4026531836]'), ('640', 'pid:[4026531836]'),
                           ('950', 'pid:[4026532901]')):
        (tmp_path / pid / 'ns').mkdir(parents=True)
        (tmp_path / pid / 'ns' / 'pid').symlink_to(namespace)
    found = daemon_processes(str(tmp_path))
    assert [(proc['pid'], proc['exe']) for proc in found] == [(640, '/usr/sbin/sendmail.sendmail'),
                                                              (812, '/usr/lib/sm.bin/sendmail (deleted)')]


def test_pid_file_daemons(tmp_path):
    proc = tmp_path / 'proc'
    proc.mkdir()
    fake_process(proc, 4242, 'sm-mta', 'sm-mta: accepting connections')
    (tmp_path / 'sendmail.pid').write_text('4242\n/usr/sbin/sendmail -bd -q15m\n')
    (tmp_path / 'stale.pid').write_text('31337\n')
    (tmp_path / 'garbage.pid').write_text('none\n')
    found = pid_file_daemons([str(tmp_path / name) for name in ('sendmail.pid', 'stale.pid', 'garbage.pid', 'absent.pid')],
                             str(proc))
    assert [(item['pid'], item['pid_file']) for item in found] == [(4242, str(tmp_path / 'sendmail.pid'))]
