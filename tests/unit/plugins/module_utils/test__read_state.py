# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import pwd
import shutil
import subprocess

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import (
    account, account_tokens, cf_source, collect, layout, layout_paths, lstat_entry, os_info, parent_dirs, parse_os_release,
    queue_listing, read_config,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
ME = pwd.getpwuid(os.geteuid()).pw_name


def test_os_release():
    bookworm = parse_os_release('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    assert os_info(bookworm) == {'family': 'Debian', 'id': 'debian', 'release': 'bookworm', 'version_id': '12'}
    assert os_info(parse_os_release('ID="rocky"\nID_LIKE="rhel centos fedora"\n'))['family'] == 'RedHat'
    assert os_info(parse_os_release('ID=linuxmint\nID_LIKE="ubuntu debian"\n'))['family'] == 'Debian'
    assert os_info({}, 'FreeBSD')['family'] == 'FreeBSD'
    assert os_info({'ID': 'arch'})['family'] == 'Linux'


def test_lstat_entry_follows_links_only_on_purpose(tmp_path):
    target = tmp_path / 'aliases'
    target.write_text('root: admin\n')
    target.chmod(0o644)
    os.mkdir(tmp_path / 'mail')
    (tmp_path / 'mail' / 'aliases').symlink_to('../aliases')
    plain = lstat_entry(str(tmp_path / 'mail' / 'aliases'))
    assert (plain['type'], plain['link'], plain['target']) == ('link', '../aliases', None)
    followed = lstat_entry(str(tmp_path / 'mail' / 'aliases'), follow=True)
    assert followed['target']['path'] == str(target)
    assert (followed['target']['type'], followed['target']['mode'], followed['target']['owner']) == ('file', '0644', ME)
    assert lstat_entry(str(tmp_path / 'absent')) == {'path': str(tmp_path / 'absent'), 'exists': False, 'error': None}
    (tmp_path / 'dangling').symlink_to('nowhere')
    assert lstat_entry(str(tmp_path / 'dangling'), follow=True)['target']['exists'] is False


def test_read_config(tmp_path):
    parsed, error = read_config(os.path.join(FIXTURES, 'bookworm', 'sendmail.cf'))
    assert error is None and parsed['options']['TrustedUser'] == 'smmta'
    (tmp_path / 'bad.cf').write_bytes(b'\x00\xff garbage\n')
    assert read_config(str(tmp_path / 'bad.cf')) == (None, 'no options and no V line: not a sendmail configuration')
    assert read_config(str(tmp_path / 'absent.cf'))[1] == 'No such file or directory'


def test_layout_from_the_debian_configs():
    configs = {}
    for role, name in (('mta', 'sendmail.cf'), ('msp', 'submit.cf')):
        parsed, _error = read_config(os.path.join(FIXTURES, 'trixie', name))
        configs[role] = {'path': '/etc/mail/' + name, 'error': None, 'settings': settings(parsed), 'maps': parsed['maps']}
    groups = layout(configs, '/usr/libexec/sendmail/sendmail', ['/etc/mail/submit.mc', '/etc/mail/sendmail.mc'])
    assert groups['config_dirs'] == ['/', '/etc', '/etc/mail']
    assert groups['mc'] == ['/etc/mail/sendmail.mc', '/etc/mail/submit.mc']
    assert groups['aliases'] == ['/etc/mail/aliases']
    assert groups['maps'] == [
        {'name': 'aliases', 'paths': ['/etc/mail/aliases.db', '/etc/mail/aliases.dir', '/etc/mail/aliases.pag']},
        {'name': 'access', 'paths': ['/etc/mail/access', '/etc/mail/access.db']},
    ]
    assert groups['help'] == ['/etc/mail/helpfile']
    assert (groups['status'], groups['status_msp']) == (['/var/lib/sendmail/sendmail.st'], ['/var/lib/sendmail/sm-client.st'])
    assert (groups['queue_mta'], groups['queue_msp']) == (['/var/spool/mqueue'], ['/var/spool/mqueue-client'])
    follow = dict(layout_paths(groups))
    assert follow['/etc/mail/aliases'] is True and follow['/etc/mail/access.db'] is True and follow['/etc/mail'] is False
    assert account_tokens(configs) == ['smmsp', 'smmta']
    assert parent_dirs('/etc/mail/sendmail.cf') == ['/', '/etc', '/etc/mail']


def test_queue_listing(tmp_path):
    (tmp_path / 'qfA').write_text('')
    (tmp_path / 'dfA').write_text('')
    os.mkdir(tmp_path / 'qf')
    (tmp_path / 'qf' / 'qfB').write_text('')
    (tmp_path / 'link').symlink_to('/etc/shadow')
    listing = queue_listing(str(tmp_path))
    assert sorted(os.path.basename(item['path']) for item in listing['files']) == ['dfA', 'qfA', 'qfB']
    assert [item['path'] for item in listing['dirs']] == [str(tmp_path / 'qf')]
    assert queue_listing(str(tmp_path / 'absent')) == {'files': [], 'dirs': [], 'others': [], 'error': None}


def test_queue_listing_sees_every_entry_links_included(tmp_path):
    (tmp_path / 'qfA').write_text('')
    os.link(str(tmp_path / 'qfA'), str(tmp_path / 'dfA'))
    (tmp_path / 'qfL').symlink_to('/etc/shadow')
    os.mkfifo(str(tmp_path / 'xfP'))
    os.mkdir(tmp_path / 'stash')
    os.mkdir(tmp_path / 'df')
    (tmp_path / 'df' / 'dfB').symlink_to('/etc/passwd')
    listing = queue_listing(str(tmp_path))
    others = {os.path.relpath(item['path'], str(tmp_path)): item for item in listing['others']}
    assert sorted(others) == ['df/dfB', 'qfL', 'stash', 'xfP']
    assert (others['qfL']['type'], others['qfL']['link']) == ('link', '/etc/shadow')
    assert (others['xfP']['type'], others['stash']['type']) == ('other', 'dir')
    files = {os.path.basename(item['path']): item for item in listing['files']}
    assert files['qfA']['nlink'] == files['dfA']['nlink'] == 2 and files['qfA']['inode'] == files['dfA']['inode']


def test_account():
    assert account('0')['name'] == 'root'
    assert account('root')['uid'] == 0
    assert account('no-such-user-here') is None


def fake_host(tmp_path, release='bookworm'):
    """A sendmail program printing the release's -d0.10 output with its config paths moved under tmp_path."""
    etc = tmp_path / 'etc' / 'mail'
    etc.mkdir(parents=True)
    with open(os.path.join(FIXTURES, release, 'd0.10.txt'), encoding='utf-8') as handle:
        (tmp_path / 'd0.txt').write_text(handle.read().replace('/etc/mail/', '%s/' % etc))
    for name in ('sendmail.cf', 'submit.cf'):
        shutil.copy(os.path.join(FIXTURES, release, name), str(etc / name))
    program = tmp_path / 'sendmail'
    program.write_text('#!/bin/sh\ncat >/dev/null\ncat "%s"\n' % (tmp_path / 'd0.txt'))
    program.chmod(0o2755)
    return str(program), etc


def run_real(argv):
    done = subprocess.run(argv, input='\n', capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_collect_a_host(tmp_path):
    program, etc = fake_host(tmp_path)
    (etc / 'sendmail.mc').write_text('dnl\n')
    state = collect(run_real, program, extra_paths=('/nonexistent/x',), probe_kernel=False, os_family='Debian')
    assert state['installed'] is True and state['version'] == '8.17.1.9' and state['drop_method'] == 'seteuid'
    assert state['os']['family'] == 'Debian'
    assert state['configs']['mta']['path'] == str(etc / 'sendmail.cf')
    assert state['configs']['mta']['settings']['TrustedUser'] == 'smmta'
    assert state['layout']['mc'] == [str(etc / 'sendmail.mc')]
    assert state['paths'][str(etc / 'sendmail.cf')]['exists'] is True
    assert state['paths']['/nonexistent/x']['exists'] is False
    assert state['paths'][program]['mode'] == '2755'
    assert state['kernel']['reason'] == 'probe_kernel is false' and state['method_works'] is None
    assert set(state['queue_files']) == {'/var/spool/mqueue', '/var/spool/mqueue-client'}


def test_cf_source_reads_the_defines_of_the_mc_built_or_not(tmp_path):
    """A define appended to the .mc and not built is told apart from the .cf's value; without m4 it is still read."""
    _program, etc = fake_host(tmp_path)
    installed = (etc / 'sendmail.cf').read_text()
    (etc / 'sendmail.mc').write_text("define(`confLOG_LEVEL', `9')dnl\ndefine(`confMAX_MESSAGE_SIZE',`5000000')\n")
    built = installed.replace('#O MaxMessageSize=0', 'O MaxMessageSize=5000000')

    def m4(argv, data=None, cwd=None):
        return 0, built, ''
    found = cf_source(m4, str(etc / 'sendmail.cf'), '/usr/bin/m4')
    assert found['buildable'] is True and found['defines'] == {'confLOG_LEVEL': '9', 'confMAX_MESSAGE_SIZE': '5000000'}
    assert [item['text'] for item in found['only_built']] == ['O MaxMessageSize=5000000'] and found['built'].startswith(built)
    found = cf_source(m4, str(etc / 'sendmail.cf'), None)
    assert found['buildable'] is False and found['defines'] == {'confLOG_LEVEL': '9', 'confMAX_MESSAGE_SIZE': '5000000'}
    (etc / 'sendmail.mc').write_text("define(`confLOG_LEVEL', `9'\n")  # m4 could not read it either
    assert cf_source(m4, str(etc / 'sendmail.cf'), None)['defines'] == {}


def nowhere(tmp_path) -> dict:
    """Places to look for sendmail where there is none (this machine's own /proc may show the lab's daemons)."""
    (tmp_path / 'proc').mkdir(exist_ok=True)
    return {'alternatives': (), 'programs': (), 'package_lists': (), 'pid_files': (), 'proc': str(tmp_path / 'proc')}


def test_collect_without_sendmail(tmp_path):
    places = nowhere(tmp_path)
    state = collect(run_real, str(tmp_path / 'sendmail'), probe_kernel=False, places=places)
    assert (state['installed'], state['reason']) == (False, '%s does not exist' % (tmp_path / 'sendmail'))
    assert state['locate']['seen'] is None
    program = tmp_path / 'other'
    program.write_text('#!/bin/sh\necho "unknown option"\n')
    program.chmod(0o755)
    assert 'did not answer -d0.10 like sendmail' in collect(run_real, str(program), probe_kernel=False, places=places)['reason']
    program.write_text('not a program')
    assert collect(run_real, str(program), probe_kernel=False, places=places)['reason'].startswith('could not run')


def test_collect_finds_sendmail_through_alternatives_and_says_so(tmp_path):
    program, _etc = fake_host(tmp_path)
    (tmp_path / 'mta').symlink_to(program)
    places = dict(nowhere(tmp_path), alternatives=(str(tmp_path / 'mta'),))
    state = collect(run_real, str(tmp_path / 'usr-sbin-sendmail'), probe_kernel=False, os_family='Debian', places=places)
    assert state['installed'] is True and state['version'] == '8.17.1.9'
    assert state['binary']['path'] == str(tmp_path / 'mta') and state['binary']['resolved'] == program
    assert state['locate']['found'] == '%s does not exist; sendmail found at %s, through the alternatives link %s' % (
        tmp_path / 'usr-sbin-sendmail', program, tmp_path / 'mta')


def test_collect_finds_the_program_the_package_lists(tmp_path):
    program, _etc = fake_host(tmp_path)
    listing = tmp_path / 'sendmail-bin.list'
    listing.write_text('/.\n/usr\n%s\n' % program)
    places = dict(nowhere(tmp_path), package_lists=(str(listing),))
    state = collect(run_real, str(tmp_path / 'absent'), probe_kernel=False, places=places)
    assert state['installed'] is True and state['binary']['resolved'] == program
    assert state['locate']['found'].endswith('through the package list %s' % listing)


def test_collect_a_daemon_without_its_program(tmp_path):
    places = nowhere(tmp_path)
    pid = tmp_path / 'proc' / '123'
    pid.mkdir()
    (pid / 'status').write_text('Name:\tsendmail-mta\nPPid:\t1\nUid:\t0\t0\t0\t0\n')
    (pid / 'cmdline').write_bytes(b'sendmail: MTA: accepting connections\0')
    (pid / 'exe').symlink_to('/usr/lib/sm.bin/sendmail (deleted)')
    state = collect(run_real, '/nonexistent/usr/sbin/sendmail', probe_kernel=False, places=places)
    assert state['installed'] is False
    assert state['locate']['seen'] == ('a sendmail daemon runs (pid 123, /usr/lib/sm.bin/sendmail (deleted)) but '
                                       '/nonexistent/usr/sbin/sendmail does not exist')
    assert state['locate']['daemons'][0]['pid'] == 123


def test_another_mtas_sendmail_running_is_no_sign_of_sendmail(tmp_path):
    """Postfix and exim install their own /usr/sbin/sendmail: a process of it is named sendmail, but is not sendmail's."""
    places = nowhere(tmp_path)
    other = tmp_path / 'postfix-sendmail'
    other.write_text('#!/bin/sh\necho "sendmail: fatal: usage: sendmail [options]"\n')
    other.chmod(0o755)
    pid = tmp_path / 'proc' / '77'
    pid.mkdir()
    (pid / 'status').write_text('Name:\tsendmail\nPPid:\t1\nUid:\t0\t0\t0\t0\n')
    (pid / 'cmdline').write_bytes(b'sendmail\0-t\0')
    (pid / 'exe').symlink_to(str(other))
    state = collect(run_real, str(other), probe_kernel=False, places=places)
    assert state['installed'] is False and state['locate']['seen'] is None
    assert 'did not answer -d0.10 like sendmail' in state['reason']


def test_collect_a_package_whose_program_is_gone(tmp_path):
    listing = tmp_path / 'sendmail-bin.list'
    listing.write_text('/usr/lib/sm.bin/sendmail\n')
    places = dict(nowhere(tmp_path), package_lists=(str(listing),))
    state = collect(run_real, str(tmp_path / 'sendmail'), probe_kernel=False, places=places)
    assert state['installed'] is False
    assert state['locate']['seen'] == ('%s lists /usr/lib/sm.bin/sendmail, which does not exist, and %s does not exist'
                                       % (listing, tmp_path / 'sendmail'))


def test_collect_unknown_probe_user(tmp_path):
    program, _etc = fake_host(tmp_path, 'trixie')
    state = collect(run_real, program, probe_user='no-such-user-here')
    assert state['kernel']['reason'] == 'probe_user no-such-user-here does not exist'
