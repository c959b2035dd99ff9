# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._read_binary import (
    drop_method, exe_path, link_chain, package_programs, parse_d0, parse_mailer_conf, resolve_binary, search_order,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def d0_fixture(release):
    with open(os.path.join(FIXTURES, release, 'd0.10.txt'), encoding='utf-8') as handle:
        return parse_d0(handle.read())


@pytest.mark.parametrize('release, version', [('bookworm', '8.17.1.9'), ('trixie', '8.18.1')])
def test_debian_d0(release, version):
    d0 = d0_fixture(release)
    assert d0['version'] == version
    assert 'HASSETREUID' in d0['os_defines']
    assert 'USESETEUID' in d0['os_defines']
    # the wrapped blocks are joined: first and last words of each block
    assert d0['os_defines'][0] == 'ADDRCONFIG_IS_BROKEN'
    assert d0['os_defines'][-1] == 'USESETEUID'
    assert len(d0['os_defines']) == 30
    assert 'STARTTLS' in d0['compiled_with']
    assert d0['compiled_with'][-1] == 'XDEBUG'
    assert d0['config_files'] == {
        'mta': '/etc/mail/sendmail.cf', 'msp': '/etc/mail/submit.cf', 'selected': '/etc/mail/sendmail.cf',
    }
    assert d0['pid_file'] == '/var/run/sendmail/mta/sendmail.pid'
    assert drop_method(d0['os_defines']) == 'seteuid'


def test_trixie_lists_dane():
    assert d0_fixture('trixie')['compiled_with'][:3] == ['DANE', 'HAVE_SSL_CTX_dane_enable', 'MAX_TLSA_RR=64']


def test_host_lines_are_not_joined_to_the_blocks():
    d0 = d0_fixture('bookworm')
    assert not any('[' in word or ':' in word for word in d0['os_defines'] + d0['compiled_with'])


@pytest.mark.parametrize('defines, method', [
    (['HASSETREUID', 'USESETEUID'], 'seteuid'),
    (['USESETEUID'], 'seteuid'),
    (['HASSETREUID', 'HASFCHOWN'], 'setreuid'),
    (['HASFCHOWN'], 'setuid'),
    ([], 'setuid'),
])
def test_drop_method_order(defines, method):
    assert drop_method(defines) == method


def test_define_less_binary():
    d0 = parse_d0('Version 8.9.3\n Compiled with: LOG\n============ SYSTEM IDENTITY (after readcf) ============\n')
    assert d0['version'] == '8.9.3'
    assert d0['os_defines'] == []
    assert d0['config_files'] == {}
    assert d0['pid_file'] is None
    assert drop_method(d0['os_defines']) == 'setuid'


def test_not_sendmail():
    d0 = parse_d0('sendmail: fatal: usage: sendmail [options]\n')
    assert d0['version'] is None


def test_default_pid_file_when_none_selected():
    d0 = parse_d0('Version 8.18.1\n      Pid file:\t/run/sendmail.pid (default)\n')
    assert d0['pid_file'] == '/run/sendmail.pid'


def test_debian_style_link_chain(tmp_path):
    real = tmp_path / 'usr/libexec/sendmail/sendmail'
    real.parent.mkdir(parents=True)
    real.write_text('')
    alternative = tmp_path / 'etc/alternatives/sendmail'
    alternative.parent.mkdir(parents=True)
    alternative.symlink_to(real)
    sbin = tmp_path / 'usr/sbin'
    sbin.mkdir()
    (sbin / 'sendmail').symlink_to('../../etc/alternatives/sendmail')
    found = resolve_binary(str(sbin / 'sendmail'))
    assert found['chain'] == [str(sbin / 'sendmail'), str(alternative), str(real)]
    assert found['resolved'] == str(real)
    assert found['exists'] is True


def test_missing_binary(tmp_path):
    found = resolve_binary(str(tmp_path / 'sendmail'))
    assert found['exists'] is False
    assert found['chain'] == [str(tmp_path / 'sendmail')]


def test_link_loop_stops(tmp_path):
    (tmp_path / 'a').symlink_to(tmp_path / 'b')
    (tmp_path / 'b').symlink_to(tmp_path / 'a')
    assert len(link_chain(str(tmp_path / 'a'), limit=5)) == 6
    assert resolve_binary(str(tmp_path / 'a'))['exists'] is False


def test_mailwrapper(tmp_path):
    real = tmp_path / 'libexec-sendmail'
    real.write_text('')
    wrapper = tmp_path / 'mailwrapper'
    wrapper.write_text('')
    (tmp_path / 'sendmail').symlink_to(wrapper)
    conf = tmp_path / 'mailer.conf'
    conf.write_text('# FreeBSD\nsendmail\t%s\nmailq\t%s\n' % (real, real))
    found = resolve_binary(str(tmp_path / 'sendmail'), mailer_conf=str(conf))
    assert found['chain'] == [str(tmp_path / 'sendmail'), str(wrapper), str(real)]
    assert found['resolved'] == str(real)


def test_parse_mailer_conf():
    assert parse_mailer_conf('sendmail /usr/libexec/sendmail/sendmail # base\n') == '/usr/libexec/sendmail/sendmail'
    assert parse_mailer_conf('# only comments\n') is None


def test_package_programs_are_the_sendmail_programs_a_list_names():
    listing = ('/.\n/usr\n/usr/libexec/sendmail\n/usr/libexec/sendmail/sendmail\n/usr/libexec/sendmail/mailstats\n'
               '/usr/share/doc/sendmail-bin\n/usr/lib/sm.bin/sendmail\n/usr/sbin/sendmail-mta\n')
    assert package_programs(listing) == ['/usr/libexec/sendmail/sendmail', '/usr/lib/sm.bin/sendmail']
    assert package_programs('/etc/mail\n/etc/mail/sendmail.conf\n') == []


def test_exe_path_of_a_deleted_program():
    assert exe_path('/usr/lib/sm.bin/sendmail (deleted)') == ('/usr/lib/sm.bin/sendmail', True)
    assert exe_path('/usr/sbin/sendmail.sendmail') == ('/usr/sbin/sendmail.sendmail', False)
    assert exe_path(None) == (None, False)


def test_search_order_without_repeats():
    found = search_order('/usr/sbin/sendmail', alternatives=['/etc/alternatives/mta'],
                         programs=['/usr/sbin/sendmail', '/usr/sbin/sendmail.sendmail'],
                         packaged=[('/usr/lib/sm.bin/sendmail', '/var/lib/dpkg/info/sendmail-bin.list')],
                         daemons=[{'pid': 812, 'exe': '/usr/lib/sm.bin/sendmail'}, {'pid': 900, 'exe': '/opt/sm (deleted)'}])
    assert found == [('/etc/alternatives/mta', 'the alternatives link /etc/alternatives/mta'),
                     ('/usr/sbin/sendmail.sendmail', 'a known place of sendmail'),
                     ('/usr/lib/sm.bin/sendmail', 'the package list /var/lib/dpkg/info/sendmail-bin.list')]
