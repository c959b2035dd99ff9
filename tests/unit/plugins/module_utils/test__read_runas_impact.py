# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import impact_request
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf, parse_mailer, run_as_parts, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, select
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import evaluate_control
from ansible_collections.mailsec.sendmail.plugins.module_utils import _read_runas_impact
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_runas_impact import (
    HANDOVER, alias_lines, allowed, expand_forward_path, identity, item_text, items_text, list_lines, sasl_files, scan,
    split_targets, target_kind,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import runas_impact

# The RunAsUser of the tests: an id no file of the tree belongs to, in no group of it.
SMMTA = identity('smmta', 64000, 64000)
FORWARD_PATH = '$z/.forward.$w:$z/.forward'


def test_permission_bits_follow_owner_then_group_then_others():
    who = {'name': 'smmta', 'uid': 100, 'gids': [102, 8]}
    assert allowed(100, 0, 0o400, who, 4) and not allowed(100, 0, 0o044, who, 4)  # the owner's bits only
    assert allowed(0, 8, 0o040, who, 4) and not allowed(0, 8, 0o404, who, 4)  # a group it is in
    assert allowed(0, 0, 0o004, who, 4) and not allowed(0, 0, 0o700, who, 1)
    assert allowed(5, 5, 0o000, {'name': 'root', 'uid': 0, 'gids': [0]}, 4)


def test_forward_path_expands_home_user_and_host_and_skips_other_macros():
    assert expand_forward_path(FORWARD_PATH, 'alice', '/home/alice', 'mx1') == ['/home/alice/.forward.mx1', '/home/alice/.forward']
    assert expand_forward_path('/var/forward/$u:$z/.forward.$j', 'bob', '/home/bob', 'mx1') == ['/var/forward/bob']
    assert expand_forward_path(None, 'bob', '/home/bob', 'mx1') == ['/home/bob/.forward']  # sendmail's default
    assert expand_forward_path('', 'bob', '/home/bob', 'mx1') == []


@pytest.mark.parametrize('target, kind', [
    ('"|/usr/bin/vacation alice"', ('program', '/usr/bin/vacation alice')),
    ('|/bin/cat', ('program', '/bin/cat')),
    (':include:/etc/mail/lists/staff', ('include', '/etc/mail/lists/staff')),
    ('/var/archive/all', ('file', '/var/archive/all')),
    ('\\bob', ('address', '\\bob')),
    ('root@example.org', ('address', 'root@example.org')),
])
def test_target_kinds(target, kind):
    assert target_kind(target) == kind


def test_targets_split_on_commas_outside_quotes():
    assert split_targets('\\alice, "|/usr/bin/procmail -a x,y", bob') == ['\\alice', '"|/usr/bin/procmail -a x,y"', 'bob']


def test_list_and_alias_lines_keep_line_numbers_and_continuations():
    assert list_lines('# mine\n\n\\alice, "|/bin/cat"\n') == [(3, '\\alice, "|/bin/cat"', [('address', '\\alice'), ('program', '/bin/cat')])]
    text = '# aliases\npostmaster: root\nstaff: alice,\n\tbob, :include:/etc/mail/staff\n'
    assert alias_lines(text) == [
        (2, 'postmaster', 'root', [('address', 'root')]),
        (3, 'staff', 'alice, bob, :include:/etc/mail/staff', [('address', 'alice'), ('address', 'bob'), ('include', '/etc/mail/staff')]),
    ]


def test_mailer_lines_are_parsed():
    line = ('Mlocal,\t\tP=/usr/sbin/sensible-mda, F=lsDFMAw5:/|@qPn9S, S=EnvFromL/HdrFromL, R=EnvToL/HdrToL,\n'
            '\t\tT=DNS/RFC822/X-Unix,\n\t\tA=sensible-mda $g $u $h ${client_addr}')
    assert parse_mailer(line) == {'name': 'local', 'path': '/usr/sbin/sensible-mda', 'flags': 'lsDFMAw5:/|@qPn9S',
                                  'argv': 'sensible-mda $g $u $h ${client_addr}'}
    assert parse_cf(line + '\nMprog, P=/bin/sh, F=lsDFMoqeu9, A=sh -c $u\n')['mailers']['prog']['argv'] == 'sh -c $u'
    assert parse_mailer('M') is None


def _file(path, text, mode, uid=0, gid=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


def _home(root, name, mode, uid):
    home = os.path.join(root, 'home', name)
    os.makedirs(home, exist_ok=True)
    os.chown(home, uid, uid)
    os.chmod(home, mode)
    return home


def _mta(local_agent=None, forward_path=FORWARD_PATH, default_user='mail:mail', dont_blame=None):
    text = ('O ForwardPath=%s\n' % forward_path if forward_path is not None else '') + 'O DefaultUser=%s\n' % default_user
    if dont_blame:
        text += 'O DontBlameSendmail=%s\n' % dont_blame
    if local_agent:
        text += 'Mlocal, P=%s, F=lsDFMAw5:/|@qPn9S, A=mail.local -l\n' % local_agent
    parsed = parse_cf(text)
    return {'settings': settings(parsed), 'mailers': parsed['mailers']}


@pytest.fixture(name='tree')
def fixture_tree():
    """The issue's host in a directory: alice pipes her mail in a 0700 home, bob includes a private list.

    Not under pytest's own temporary directory, whose 0700 parents no RunAsUser could search."""
    if os.geteuid() != 0:
        pytest.skip('the tree needs root to give files to other owners')
    root = tempfile.mkdtemp(prefix='mailsec-impact-', dir=tempfile.gettempdir())
    os.chmod(root, 0o755)
    os.makedirs(os.path.join(root, 'home'), mode=0o755, exist_ok=True)
    os.chmod(os.path.join(root, 'home'), 0o755)
    alice = _home(root, 'alice', 0o700, 2001)
    bob = _home(root, 'bob', 0o755, 2002)
    carol = _home(root, 'carol', 0o755, 2003)
    _file(os.path.join(alice, '.forward'), '"|/usr/local/bin/note"\n', 0o600, 2001, 2001)
    _file(os.path.join(bob, '.forward'), ':include:%s/private.list\n' % bob, 0o644, 2002, 2002)
    _file(os.path.join(bob, 'private.list'), '\\bob\nroot\n', 0o600, 2002, 2002)
    _file(os.path.join(carol, '.forward'), 'carol@example.org\n', 0o644, 2003, 2003)
    yield root
    shutil.rmtree(root)


def _users(root, names=('alice', 'bob', 'carol')):
    return [(name, os.path.join(root, 'home', name)) for name in names]


def test_the_issue_host_names_the_forward_and_the_list(tree):
    found = scan(SMMTA, _mta(), [], users=_users(tree), host='mx1')
    assert found['user'] == 'smmta' and found['users_scanned'] == 3
    by_kind = {item['kind']: item for item in found['items']}
    assert sorted(by_kind) == ['forward', 'include']
    forward = by_kind['forward']
    assert forward['path'] == os.path.join(tree, 'home/alice/.forward') and forward['user'] == 'alice'
    assert (forward['owner'], forward['mode'], forward['line']) == ('2001', '0600', '1: "|/usr/local/bin/note"')
    assert 'smmta cannot read it (%s/home/alice is 2001:2001 0700)' % tree in forward['problem']
    assert 'mail to alice goes to the mailbox instead' in forward['problem']
    include = by_kind['include']
    assert include['path'] == os.path.join(tree, 'home/bob/private.list') and include['via'] == os.path.join(tree, 'home/bob/.forward')
    assert include['mode'] == '0600' and 'the list does not expand' in include['problem']
    assert item_text(include).startswith('%s/home/bob/private.list (2002:2002 0600) named in %s/home/bob/.forward: smmta cannot read it' % (tree, tree))


def test_readable_deliveries_that_run_as_the_user_are_items(tree):
    bob = os.path.join(tree, 'home/bob')
    os.chmod(os.path.join(bob, 'private.list'), 0o644)
    _file(os.path.join(bob, 'private.list'), '\\bob, "|/usr/bin/archive"\n/srv/archive/bob\n', 0o644, 2002, 2002)
    items = scan(SMMTA, _mta(), [], users=_users(tree, ('bob',)), host='mx1')['items']
    # Without NonRootSafeAddr sendmail refuses them: an address read from a list is unsafe with RunAsUser.
    assert [(item['kind'], item['problem'][:48]) for item in items] == [
        ('include', 'the program /usr/bin/archive (run as 2002 today)'), ('include', 'the file /srv/archive/bob (run as 2002 today) is')]
    assert all('is refused as unsafe with RunAsUser' in item['problem'] for item in items)
    assert [item['line'] for item in items] == ['1: \\bob, "|/usr/bin/archive"', '2: /srv/archive/bob']
    # With NonRootSafeAddr they run, as smmta.
    items = scan(SMMTA, _mta(dont_blame='NonRootSafeAddr'), [], users=_users(tree, ('bob',)), host='mx1')['items']
    assert [item['problem'] for item in items] == ['runs /usr/bin/archive as smmta, not as 2002', 'writes /srv/archive/bob as smmta, not as 2002']


def test_the_first_forward_path_file_that_exists_is_the_one_read(tree):
    alice = os.path.join(tree, 'home/alice')
    os.chmod(alice, 0o755)
    os.chmod(os.path.join(alice, '.forward'), 0o644)
    _file(os.path.join(alice, '.forward.mx1'), 'alice@example.org\n', 0o644, 2001, 2001)
    assert scan(SMMTA, _mta(), [], users=_users(tree, ('alice',)), host='mx1')['items'] == []
    items = scan(SMMTA, _mta(dont_blame='NonRootSafeAddr'), [], users=_users(tree, ('alice',)), host='mx2')['items']
    assert [item['problem'] for item in items] == ['runs /usr/local/bin/note as smmta, not as alice']


def test_aliases_programs_run_as_the_default_user_unless_it_is_the_run_as_user(tree):
    aliases = _file(os.path.join(tree, 'etc/aliases'), 'postmaster: root\nlists: "|/usr/lib/mailman/mail/mailman post lists"\n'
                    'staff: :include:%s/etc/staff\n' % tree, 0o644)
    _file(os.path.join(tree, 'etc/staff'), 'alice\n/var/log/staff.mbox\n', 0o640, 0, 0)
    items = scan(SMMTA, _mta(), [aliases], users=[], host='mx1')['items']
    assert [(item['kind'], item['user'], item['problem']) for item in items] == [
        ('alias', 'lists', 'runs /usr/lib/mailman/mail/mailman post lists as smmta, not as mail'),
        ('include', 'staff', 'smmta cannot read it: the list does not expand and mail to it bounces'),
    ]
    assert items[0]['line'] == '2: lists: "|/usr/lib/mailman/mail/mailman post lists"'
    as_mail = scan(identity('mail', 8, 8), _mta(), [aliases], users=[], host='mx1')['items']
    assert [item['kind'] for item in as_mail] == ['include']


def test_a_local_agent_that_is_not_set_user_id_root_is_an_item(tree):
    agent = _file(os.path.join(tree, 'usr/libexec/mail.local'), '#!/bin/sh\n', 0o755)
    items = scan(SMMTA, _mta(agent), [], users=[], host='mx1')['items']
    assert [item['kind'] for item in items] == ['local_mailer'] and items[0]['line'].startswith('Mlocal, P=%s' % agent)
    os.chmod(agent, 0o4755)
    assert scan(SMMTA, _mta(agent), [], users=[], host='mx1')['items'] == []
    assert scan(SMMTA, _mta(agent + '.missing'), [], users=[], host='mx1')['items'] == []


def test_an_agent_that_hands_over_to_a_set_user_id_root_one_needs_no_root(tree, monkeypatch):
    """Debian's sensible-mda, no longer set-user-id once hardened, runs procmail, which still is."""
    sensible = _file(os.path.join(tree, 'usr/sbin/sensible-mda'), '#!/bin/sh\n', 0o755)
    procmail = _file(os.path.join(tree, 'usr/bin/procmail'), '#!/bin/sh\n', 0o4755)
    monkeypatch.setitem(HANDOVER, 'sensible-mda', (os.path.join(tree, 'usr/bin/missing'), procmail))
    assert scan(SMMTA, _mta(sensible), [], users=[], host='mx1')['items'] == []
    os.chmod(procmail, 0o755)
    assert [item['kind'] for item in scan(SMMTA, _mta(sensible), [], users=[], host='mx1')['items']] == ['local_mailer']


def test_nested_lists_stop_at_a_loop(tree):
    one, two = os.path.join(tree, 'etc/one'), os.path.join(tree, 'etc/two')
    _file(one, ':include:%s\n/var/one\n' % two, 0o644)
    _file(two, ':include:%s\n' % one, 0o644)
    aliases = _file(os.path.join(tree, 'etc/aliases'), 'loop: :include:%s\n' % one, 0o644)
    items = scan(SMMTA, _mta(dont_blame='NonRootSafeAddr'), [aliases], users=[], host='mx1')['items']
    assert [item['problem'] for item in items] == ['writes /var/one as smmta, not as mail']


def test_a_set_user_id_file_is_written_as_its_owner_today(tree):
    """The book's list: each archive set-user-id to its user; with RunAsUser both are written as smmta."""
    bill = _file(os.path.join(tree, 'home/bill/archive'), '', 0o4600, 2004, 2004)
    alice = _file(os.path.join(tree, 'home/alice/archive'), '', 0o4600, 2001, 2001)
    aliases = _file(os.path.join(tree, 'etc/aliases'), 'archive: %s, %s\n' % (bill, alice), 0o644)
    items = scan(SMMTA, _mta(), [aliases], users=[], host='mx1')['items']
    assert [item['problem'] for item in items] == ['writes %s as smmta, not as 2004' % bill, 'writes %s as smmta, not as 2001' % alice]


def test_many_items_are_named_up_to_a_limit():
    items = [{'kind': 'forward', 'path': '/home/u%d/.forward' % n, 'owner': 'u', 'group': 'u', 'mode': '0644', 'line': None,
              'via': None, 'problem': 'p'} for n in range(12)]
    assert items_text(items, 2) == '/home/u0/.forward (u:u 0644): p; /home/u1/.forward (u:u 0644): p; and 10 more'
    assert items_text(items[:1], 2) == '/home/u0/.forward (u:u 0644): p'


@pytest.mark.parametrize('value, parts', [
    ('smmta:smmsp', ('smmta', 'smmsp')), ('smmta.smmsp', ('smmta', 'smmsp')), ('smmta/smmsp', ('smmta', 'smmsp')),
    ('smmta', ('smmta', None)), ('100:102', ('100', '102')), (None, (None, None)), ('', (None, None)),
])
def test_run_as_values_split_as_sendmail_splits_them(value, parts):
    assert run_as_parts(value) == parts


def test_an_unset_forward_path_is_sendmails_default(tree):
    items = scan(SMMTA, _mta(forward_path=None), [], users=_users(tree, ('alice',)), host='mx1')['items']
    assert [item['path'] for item in items] == [os.path.join(tree, 'home/alice/.forward')]


def test_a_forward_that_links_into_a_private_directory_is_unreadable(tree):
    carol = os.path.join(tree, 'home/carol')
    private = os.path.join(tree, 'private')
    os.makedirs(private, mode=0o700)
    _file(os.path.join(private, 'forward'), '"|/usr/bin/true"\n', 0o644, 2003, 2003)
    os.unlink(os.path.join(carol, '.forward'))
    os.symlink(os.path.join(private, 'forward'), os.path.join(carol, '.forward'))
    items = scan(SMMTA, _mta(), [], users=_users(tree, ('carol',)), host='mx1')['items']
    assert [item['problem'] for item in items] == [
        'smmta cannot read it (%s is root:root 0700): mail to carol goes to the mailbox instead' % private]


def test_a_readable_later_candidate_is_what_mail_follows_instead(tree):
    alice = os.path.join(tree, 'home/alice')
    os.chmod(alice, 0o711)
    _file(os.path.join(alice, '.forward.mx1'), 'alice@example.org\n', 0o600, 2001, 2001)
    os.chmod(os.path.join(alice, '.forward'), 0o644)
    items = scan(SMMTA, _mta(), [], users=_users(tree, ('alice',)), host='mx1')['items']
    assert [item['problem'] for item in items] == [
        'smmta cannot read it: mail to alice follows %s instead' % os.path.join(alice, '.forward')]


def test_a_shared_home_is_judged_once(tree):
    home = os.path.join(tree, 'home/alice')
    assert len(scan(SMMTA, _mta(), [], users=[('alice', home), ('alias-of-alice', home)], host='mx1')['items']) == 1


def test_long_alias_files_are_read_whole_and_bad_names_do_not_raise(tree):
    text = ''.join('user%05d: root\n' % n for n in range(8000)) + 'last: "|/usr/bin/last"\nodd: :include:/x\0y\n'
    aliases = _file(os.path.join(tree, 'etc/aliases'), text, 0o644)
    items = scan(SMMTA, _mta(), [aliases], users=[], host='mx1')['items']
    assert [item['problem'] for item in items][0] == 'runs /usr/bin/last as smmta, not as mail'
    assert 'not judged' in items[1]['problem'] and items[1]['path'] == '/x\0y'


def test_an_agent_whose_bit_the_hardening_drops_is_judged_without_it(tree):
    agent = _file(os.path.join(tree, 'usr/libexec/mail.local'), '#!/bin/sh\n', 0o4755)
    assert scan(SMMTA, _mta(agent), [], users=[], host='mx1')['items'] == []
    items = scan(SMMTA, _mta(agent), [], users=[], host='mx1', stripped=[agent])['items']
    assert 'once the hardening drops that bit' in items[0]['problem']


# --- the state's view and the finding -------------------------------------------------------------

def _configs(text='O ForwardPath=\n', error=None):
    parsed = parse_cf(text)
    return {'mta': {'path': '/etc/mail/sendmail.cf', 'error': error, 'settings': settings(parsed), 'mailers': parsed['mailers']}}


@pytest.mark.parametrize('text, fallback, wanted', [
    ('O RunAsUser=nobody:nogroup\nO ForwardPath=\n', {}, ('nobody', True, None)),
    ('O RunAsUser=nobody.nogroup\nO ForwardPath=\n', {}, ('nobody', True, None)),
    ('O ForwardPath=\n', {'user': 'nobody', 'group': 'nogroup'}, ('nobody', False, None)),
    ('O ForwardPath=\n', {'user': None}, (None, False, 'no RunAsUser is set and none is expected')),
    ('O RunAsUser=no-such-user\n', {}, ('no-such-user', True, 'the user no-such-user does not exist')),
    ('O RunAsUser=nobody:no-such-group\n', {}, ('nobody', True, 'the group no-such-group does not exist')),
])
def test_the_state_judges_the_run_as_user_named_or_expected(text, fallback, wanted):
    found = runas_impact(_configs(text), {'aliases': []}, fallback)
    assert (found['user'], found['set'], found['error']) == wanted


def test_an_unreadable_configuration_is_not_judged():
    found = runas_impact(_configs(error='Permission denied'), {'aliases': []}, {'user': 'nobody'})
    assert found['error'] == 'cannot read /etc/mail/sendmail.cf' and found['items'] == []


def test_the_impact_is_read_for_the_user_and_group_sm_runas_01_would_set():
    assert impact_request(select(['SM-TRUST-01']), 'Debian', {}) is None
    assert impact_request(select(['SM-RUNAS-02']), 'Debian', {}) == {'user': 'smmta', 'group': 'smmsp'}
    assert impact_request(select(['SM-RUNAS-01']), 'Debian', {'SM-RUNAS-01': {'user': 'mta', 'group': None}}) == {
        'user': 'mta', 'group': None}


def _judged(impact):
    state = {'installed': True, 'os': {'family': 'Debian'}, 'configs': _configs(), 'runas_impact': impact}
    return evaluate_control(BY_ID['SM-RUNAS-02'], {}, state)


def test_the_finding_says_would_break_or_broken_now_and_names_the_first_paths():
    items = [{'kind': 'forward', 'user': 'u%d' % n, 'path': '/home/u%02d/.forward' % n, 'owner': 'u', 'group': 'u', 'mode': '0600',
              'line': None, 'via': None, 'problem': 'p'} for n in range(12)]
    impact = {'user': 'smmta', 'set': False, 'error': None, 'items': items, 'users_scanned': 40}
    found = _judged(impact)
    assert found['status'] == 'fail' and found['path'] == '/home/u00/.forward'
    assert found['actual'].startswith('with RunAsUser=smmta: 12 deliveries would break: /home/u00/.forward, ')
    assert found['actual'].endswith('/home/u09/.forward, and 2 more')
    assert _judged(dict(impact, set=True))['actual'].startswith('RunAsUser=smmta is set: 12 deliveries broken now')
    assert _judged(dict(impact, items=[]))['actual'] == 'with RunAsUser=smmta, no delivery needs root (40 accounts scanned)'
    assert _judged(dict(impact, items=[], error='the user smmta does not exist'))['status'] == 'not_applicable'


def test_sasl_files_follow_the_first_sendmail_conf():
    confs = {'/etc/sasl2/Sendmail.conf': None,
             '/usr/lib/sasl2/Sendmail.conf': 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: /etc/mail/sasldb2\n'}
    assert sasl_files(confs.get, ('/etc/sasl2', '/usr/lib/sasl2')) == ['/usr/lib/sasl2/Sendmail.conf', '/etc/mail/sasldb2']
    confs['/usr/lib/sasl2/Sendmail.conf'] = '# checked by saslauthd\npwcheck_method: saslauthd\n'
    assert sasl_files(confs.get, ('/etc/sasl2', '/usr/lib/sasl2')) == ['/usr/lib/sasl2/Sendmail.conf']
    confs['/usr/lib/sasl2/Sendmail.conf'] = 'mech_list: PLAIN LOGIN\n'
    assert sasl_files(confs.get, ('/usr/lib/sasl2',)) == ['/usr/lib/sasl2/Sendmail.conf', '/etc/sasldb2']
    assert sasl_files(lambda path: None, ('/etc/sasl2',)) == ['/etc/sasldb2']


def test_files_the_daemon_reads_that_the_run_as_user_cannot_are_items(tree, monkeypatch):
    """A SASL database only a group other than the RunAsUser's reads (root:sasl 0640): AUTH fails once RunAsUser is
    set; a certificate only root reads: STARTTLS goes off. Readable ones, and absent ones, are no items."""
    conf = _file(os.path.join(tree, 'sasl2/Sendmail.conf'), 'sasldb_path: %s/sasldb2\n' % tree, 0o644)
    database = _file(os.path.join(tree, 'sasldb2'), 'db', 0o640, 0, 45)
    certificate = _file(os.path.join(tree, 'tls/server.crt'), 'crt', 0o600)
    public = _file(os.path.join(tree, 'tls/ca.crt'), 'ca', 0o644)
    monkeypatch.setattr(_read_runas_impact, 'SASL_CONFIG_DIRS', (os.path.dirname(conf),))
    text = ('O AuthMechanisms=PLAIN LOGIN\nO ServerCertFile=%s\nO CACertFile=%s\nO ClientCertFile=%s/tls/absent.crt\n'
            % (certificate, public, tree))
    parsed = parse_cf(text)
    items = scan(SMMTA, {'settings': settings(parsed), 'mailers': {}}, [], users=[], host='mx1')['items']
    assert [(item['kind'], item['path'], item['problem'].split(': ', 1)[1]) for item in items] == [
        ('tls', certificate, 'STARTTLS goes off without a word'),
        ('auth', database, 'SMTP AUTH fails (535) for every user')]
    assert items[1]['problem'].startswith('smmta cannot read it')
    # Without AuthMechanisms the SASL files are not read.
    parsed = parse_cf('O CACertFile=%s\n' % public)
    assert scan(SMMTA, {'settings': settings(parsed), 'mailers': {}}, [], users=[], host='mx1')['items'] == []
