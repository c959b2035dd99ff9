# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import alias_files, data_files, parse_cf, parse_map

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_debian_maps(release):
    with open(os.path.join(FIXTURES, release, 'sendmail.cf'), encoding='utf-8') as handle:
        parsed = parse_cf(handle.read())
    assert sorted(parsed['maps']) == ['access', 'arith', 'dequote', 'macro', 'resolve']
    access = parsed['maps']['access']
    assert (access['class'], access['file'], access['data_files'], access['optional']) == (
        'hash', '/etc/mail/access', ['/etc/mail/access.db'], False)
    assert parsed['maps']['resolve']['file'] is None
    assert alias_files(parsed['occurrences']['AliasFile']) == [{
        'class': 'implicit', 'file': '/etc/mail/aliases', 'optional': False,
        'data_files': ['/etc/mail/aliases.db', '/etc/mail/aliases.dir', '/etc/mail/aliases.pag'],
    }]


def test_parse_map_variants():
    assert parse_map('Kvirt hash -o /etc/mail/virtusertable.db')['file'] == '/etc/mail/virtusertable'
    assert parse_map('Kvirt hash -o /etc/mail/virtusertable.db')['optional'] is True
    assert parse_map('Kmt dbm /etc/mail/mailertable')['data_files'] == ['/etc/mail/mailertable.dir', '/etc/mail/mailertable.pag']
    assert parse_map('Kl text -k0 -v1 /etc/mail/list')['data_files'] == ['/etc/mail/list']
    assert parse_map('Kldap ldap -b dc=example /x')['file'] is None
    assert parse_map('K') is None


def test_alias_files_classes():
    found = alias_files(['hash:/etc/mail/aliases, nis:mail.aliases', 'btree:-o /srv/lists.db', ''])
    assert [(a['class'], a['file'], a['optional']) for a in found] == [
        ('hash', '/etc/mail/aliases', False), ('nis', None, False), ('btree', '/srv/lists.db', True)]
    assert found[2]['data_files'] == ['/srv/lists.db']
    assert data_files('nis', 'x') == []
