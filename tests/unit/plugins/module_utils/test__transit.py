# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mail in transit: the readers of sendmail's STARTTLS and AUTH options and of certificates, the SMTP probe against
a server on this machine, the transit controls' judgments and the plans that fix them."""

from __future__ import annotations

import copy
import datetime
import os
import shutil
import socketserver
import ssl
import subprocess
import threading
import warnings

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _read_smtp
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, STRONG_CIPHERS, expected_for
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import evaluate_control
from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_selfsigned
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_kinds import KINDS
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import option_steps, self_signed_steps
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import named_file_paths
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import certificate_state, layout, transit_state
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_tls import (
    auth_options_value, cipher_problems, not_after, pem_certificates, plaintext_mechanisms, ssl_floor_missing, ssl_floor_value,
)
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__judge import entry, read, stock_state
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__smtp_controls import set_line, with_cf

ALL_OFF = ['SSL 3', 'TLS 1.0', 'TLS 1.1']
FLOOR = '+SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1'
WEAK = '-SSL_OP_NO_TLSv1 -SSL_OP_NO_TLSv1_1'
TRANSIT = ['SM-TLS-02', 'SM-TLS-03', 'SM-TLS-04', 'SM-TLS-05', 'SM-TLS-06']


@pytest.fixture(scope='module')
def pair(tmp_path_factory) -> dict:
    """A certificate and key made here by openssl (no key is kept in the tree), one valid ten years, one past 2050
    (GeneralizedTime), and the end of each as openssl itself reads it."""
    work = tmp_path_factory.mktemp('tls')
    found = {'key': str(work / 'lab.key')}
    for name, days in (('cert', 3650), ('late', 10000)):
        path = str(work / ('%s.pem' % name))
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', found['key'] if name == 'cert'
                        else str(work / 'late.key'), '-out', path, '-subj', '/CN=lab.test', '-days', str(days)],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)
        end = subprocess.run(['openssl', 'x509', '-noout', '-enddate', '-in', path], check=True, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL).stdout.strip().split('=', 1)[1]
        found[name] = path
        found[name + '_end'] = datetime.datetime.strptime(end, '%b %d %H:%M:%S %Y GMT')
    return found


# --- the options as sendmail reads them --------------------------------------------------------------


@pytest.mark.parametrize('value, left_on', [
    (None, ALL_OFF),
    ('', ALL_OFF),
    (FLOOR, []),
    ('ssl_op_no_sslv3,SSL_OP_NO_TLSV1 ssl_op_no_tlsv1_1', []),  # sendmail compares the names without case
    (WEAK, ALL_OFF),
    ('0x16000000', []),  # the three bits as one number
    ('+SSL_OP_NO_TLSv1 -SSL_OP_NO_TLSv1 +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1_1', ['TLS 1.0']),  # applied in order
    (FLOOR + ' -0x04000000', ['TLS 1.0']),
    ('SSL_OP_CIPHER_SERVER_PREFERENCE +SSL_OP_NO_TLSv1_1', ['SSL 3', 'TLS 1.0']),
])
def test_the_floor_is_read_as_sendmail_applies_the_words(value, left_on):
    assert ssl_floor_missing(value) == left_on


@pytest.mark.parametrize('current, wanted', [
    (None, FLOOR),
    (WEAK, FLOOR),
    ('SSL_OP_CIPHER_SERVER_PREFERENCE -0x04000000', 'SSL_OP_CIPHER_SERVER_PREFERENCE ' + FLOOR),
    ('+SSL_OP_NO_TLSv1 SSL_OP_NO_RENEGOTIATION', '+SSL_OP_NO_TLSv1 SSL_OP_NO_RENEGOTIATION +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1_1'),
    (FLOOR, FLOOR),
])
def test_the_fix_keeps_the_sites_words_and_drops_those_that_clear_the_floor(current, wanted):
    assert ssl_floor_value(current) == wanted
    assert ssl_floor_missing(wanted) == []
    assert ssl_floor_value(wanted) == wanted


@pytest.mark.parametrize('value, weak', [
    (None, False), (STRONG_CIPHERS, False), ('HIGH:!aNULL', False), ('ALL:!aNULL:!eNULL', False), ('HIGH:!RC4:!3DES', False),
    ('DEFAULT:@SECLEVEL=2', False), ('DEFAULT:@SECLEVEL=0', True), ('ALL', True), ('HIGH:RC4-SHA', True),
    ('HIGH:EXP-RC4-MD5', True), ('aNULL', True), ('HIGH:DES-CBC3-SHA', True), ('HIGH:+3DES', False), ('MEDIUM:eNULL', True),
])
def test_cipher_lists_that_let_weak_suites_in(value, weak):
    assert bool(cipher_problems(value)) is weak


def test_auth_options_get_p_and_keep_their_letters():
    assert auth_options_value(None) == 'p'
    assert auth_options_value('A') == 'A,p'
    assert auth_options_value('A p y') == 'A,p,y'
    assert plaintext_mechanisms('GSSAPI PLAIN login CRAM-MD5') == ['PLAIN', 'LOGIN']


def test_not_after_of_real_certificates_utc_and_generalized_time(pair):
    with open(pair['cert'], encoding='ascii') as handle:
        der = pem_certificates(handle.read())
    assert len(der) == 1
    assert not_after(der[0]) == pair['cert_end']
    assert pair['late_end'].year >= 2050
    assert certificate_state(pair['late']) == {'path': pair['late'], 'not_after': pair['late_end'].strftime('%Y-%m-%dT%H:%M:%SZ'),
                                               'error': None}
    assert certificate_state(pair['key'])['error'] == 'no PEM certificate in it'
    assert certificate_state('/nonexistent/cert.pem')['error']
    with pytest.raises(ValueError):
        not_after(der[0][:40])


# --- the probe, against an SMTP server on this machine ------------------------------------------------


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, context, auth_before, auth_after):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.context, self.auth_before, self.auth_after = context, auth_before, auth_after


class _Handler(socketserver.BaseRequestHandler):
    """Just enough ESMTP: EHLO, STARTTLS and QUIT, the way sendmail answers them."""

    def handle(self):
        conn, secure = self.request, False
        stream = conn.makefile('rb')
        conn.sendall(b'220 fake.lab.test ESMTP\r\n')
        while True:
            line = stream.readline().strip().upper()
            if not line:
                return
            if line.startswith(b'EHLO'):
                lines = ['fake.lab.test'] + ([] if secure else ['STARTTLS'])
                auth = self.server.auth_after if secure else self.server.auth_before
                lines += ['AUTH ' + auth] if auth else []
                lines.append('HELP')
                conn.sendall(''.join('250%s%s\r\n' % ('-' if i < len(lines) - 1 else ' ', text) for i, text in enumerate(lines)).encode())
            elif line == b'STARTTLS':
                conn.sendall(b'220 2.0.0 Ready to start TLS\r\n')
                try:
                    conn = self.server.context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                stream, secure = conn.makefile('rb'), True
            elif line == b'QUIT':
                conn.sendall(b'221 2.0.0 closing\r\n')
                return
            else:
                conn.sendall(b'500 5.5.1 Command unrecognized\r\n')


def _serve(weak: bool, auth_before: str, pair: dict):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair['cert'], pair['key'])
    if weak:  # as the lab's tlsweak profile: OpenSSL's level 0 lets TLS 1.0 and 1.1 in
        context.set_ciphers('DEFAULT:@SECLEVEL=0')
        with warnings.catch_warnings():  # deprecated, and what this server is for
            warnings.simplefilter('ignore', DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    server = _Server(context, auth_before, 'PLAIN LOGIN')
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize('weak', [False, True])
def test_the_probe_reads_starttls_versions_cipher_expiry_and_auth(weak, pair):
    server = _serve(weak, 'PLAIN LOGIN' if weak else '', pair)
    try:
        found = _read_smtp.probe_daemon('MTA', '127.0.0.1', server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert found['error'] is None and found['greeting'] == '220 fake.lab.test ESMTP'
    assert found['starttls'] is True
    assert found['auth_before'] == (['PLAIN', 'LOGIN'] if weak else []) and found['auth_after'] == ['PLAIN', 'LOGIN']
    assert found['tls']['version'] == 'TLSv1.3' and found['tls']['cipher'] and found['tls']['not_after'] == pair['cert_end'].strftime('%Y-%m-%dT%H:%M:%SZ')
    old = 'accepted' if weak else 'refused'
    assert [found['versions'][label].split(':')[0] for label in ('TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3')] == [
        old, old, 'accepted', 'accepted']
    assert 'handshakes: TLS 1.0 %s' % old in _read_smtp.evidence(found)


def test_the_probe_says_why_it_could_not_ask():
    found = _read_smtp.probe_daemon('MTA', '127.0.0.1', 9)
    assert found['error'].startswith('cannot connect to 127.0.0.1 port 9') and found['versions'] == {}
    assert _read_smtp.probe(['Name=MTA'], running=False) == {'ran': False, 'why': 'the MTA daemon is not running', 'daemons': []}


def test_the_probe_asks_each_tcp_daemon_on_the_address_a_client_on_the_host_reaches():
    debian = ['Family=inet,  Name=MTA-v4, Port=smtp, Addr=127.0.0.1', 'Family=inet,  Name=MSP-v4, Port=submission, M=Ea, Addr=127.0.0.1']
    assert _read_smtp.targets(debian) == [('MTA-v4', '127.0.0.1', 25), ('MSP-v4', '127.0.0.1', 587)]
    assert _read_smtp.targets([]) == [('MTA', '127.0.0.1', 25)]
    assert _read_smtp.targets(['Family=inet6, Name=MTA-v6', 'Family=local, Name=L, Addr=/run/sm.sock', 'Name=MTA, Addr=0.0.0.0']) == [
        ('MTA-v6', '::1', 25), ('MTA', '127.0.0.1', 25)]


# --- the controls ---------------------------------------------------------------------------------


def expected(overrides=None):
    return {control_id: expected_for(BY_ID[control_id], 'Debian', (overrides or {}).get(control_id)) for control_id in TRANSIT}


def daemon(starttls=True, before=(), versions=None, not_after_='2036-12-04T18:26:25Z'):
    versions = versions or {'TLS 1.0': 'refused: x', 'TLS 1.1': 'refused: x', 'TLS 1.2': 'accepted', 'TLS 1.3': 'accepted'}
    return {'name': 'MTA-v4', 'address': '127.0.0.1', 'port': 25, 'error': None, 'greeting': '220 x', 'starttls': starttls,
            'auth_before': list(before), 'auth_after': ['PLAIN', 'LOGIN'] if starttls else None,
            'tls': {'version': 'TLSv1.3', 'cipher': 'TLS_AES_256_GCM_SHA384', 'not_after': not_after_} if starttls else None,
            'versions': versions if starttls else {}}


def tls_state(lines=(), daemons=None, stale=False, now='2026-12-07T18:00:00Z', cert_until='2036-12-04T18:26:25Z'):
    """The lab's tls profile as the collector reads it: the options of its starttls.m4 and sasl.m4, plus ``lines``."""
    text = read('bookworm', 'sendmail.cf')
    options = {'ServerCertFile': '/etc/mail/tls/sendmail-server.crt', 'ServerKeyFile': '/etc/mail/tls/sendmail-common.key',
               'ClientCertFile': '/etc/mail/tls/sendmail-client.crt', 'ClientKeyFile': '/etc/mail/tls/sendmail-common.key',
               'CACertFile': '/etc/mail/tls/sendmail-server.crt', 'CACertPath': '/etc/mail/tls', 'AuthMechanisms': 'PLAIN LOGIN'}
    for option, value in list(options.items()) + [tuple(line.split('=', 1)) for line in lines]:
        text = set_line(text, option, value)
    state = with_cf(stock_state(), text)
    state['layout'].update(layout(state['configs'], None, []))
    for path in state['layout']['tls_certs']:
        state['paths'][path] = entry(path, 'root', 'smmsp', '0644')
    state['paths']['/etc/mail/tls/sendmail-common.key'] = entry('/etc/mail/tls/sendmail-common.key', 'root', 'smmsp', '0640')
    state['paths']['/etc/mail/tls'] = entry('/etc/mail/tls', 'root', 'root', '0755', 'dir')
    certificates = {path: {'path': path, 'not_after': cert_until, 'error': None}
                    for path in ('/etc/mail/tls/sendmail-server.crt', '/etc/mail/tls/sendmail-client.crt')}
    smtp = {'ran': True, 'why': None, 'stale': stale, 'daemons': [daemon(before=('PLAIN', 'LOGIN'))] if daemons is None else daemons}
    state['transit'] = {'certificates': certificates, 'smtp': smtp, 'now': now}
    return state


def statuses(state, overrides=None):
    wanted = expected(overrides)
    return {control_id: evaluate_control(BY_ID[control_id], wanted[control_id], state)['status'] for control_id in TRANSIT}


def test_stock_debian_has_no_starttls_and_no_floor_of_its_own():
    assert statuses(stock_state()) == {'SM-TLS-02': 'not_applicable', 'SM-TLS-03': 'fail', 'SM-TLS-04': 'not_applicable',
                                       'SM-TLS-05': 'fail', 'SM-TLS-06': 'not_applicable'}
    found = evaluate_control(BY_ID['SM-TLS-03'], expected()['SM-TLS-03'], stock_state())
    assert found['actual'] == 'STARTTLS is not configured: no ServerCertFile; no ServerKeyFile; no CACertFile; no CACertPath'


def test_without_ca_certificates_sendmail_offers_no_starttls():
    """tls.h: a server needs CACertFile and CACertPath to exist as well (TLS_I_SRV_CERT); the wire agrees."""
    state = tls_state(daemons=[daemon(starttls=False)])
    state['paths']['/etc/mail/tls'] = {'path': '/etc/mail/tls', 'exists': False, 'error': None}
    found = evaluate_control(BY_ID['SM-TLS-03'], expected()['SM-TLS-03'], state)
    assert found['actual'] == 'CACertPath /etc/mail/tls is absent; MTA-v4 127.0.0.1:25 offers no STARTTLS over the wire'


def test_the_lab_tls_profile_fails_the_floor_and_plaintext_auth():
    found = statuses(tls_state())
    assert found == {'SM-TLS-02': 'pass', 'SM-TLS-03': 'pass', 'SM-TLS-04': 'pass', 'SM-TLS-05': 'fail', 'SM-TLS-06': 'fail'}
    auth = evaluate_control(BY_ID['SM-TLS-06'], {}, tls_state())
    assert 'MTA-v4 127.0.0.1:25 offers PLAIN LOGIN before STARTTLS' in auth['actual']
    assert 'wire MTA-v4 127.0.0.1:25: STARTTLS offered; AUTH before STARTTLS: PLAIN LOGIN' in auth['evidence']


def test_the_floor_set_on_both_sides_passes_and_the_wire_can_still_fail_it():
    lines = ['ServerSSLOptions=' + FLOOR, 'ClientSSLOptions=' + FLOOR, 'AuthOptions=A,p']
    assert statuses(tls_state(lines, daemons=[daemon()])) == dict.fromkeys(TRANSIT, 'pass')
    weak = {'TLS 1.0': 'accepted', 'TLS 1.1': 'accepted', 'TLS 1.2': 'accepted', 'TLS 1.3': 'accepted'}
    found = evaluate_control(BY_ID['SM-TLS-05'], expected()['SM-TLS-05'], tls_state(lines, daemons=[daemon(versions=weak)]))
    assert found['status'] == 'fail' and found['actual'] == (
        'TLS 1.0 accepted over the wire by MTA-v4 127.0.0.1:25; TLS 1.1 accepted over the wire by MTA-v4 127.0.0.1:25')
    # A daemon that runs an older sendmail.cf shows what it offers, and is not judged against this one.
    stale = evaluate_control(BY_ID['SM-TLS-05'], expected()['SM-TLS-05'], tls_state(lines, daemons=[daemon(versions=weak)], stale=True))
    assert stale['status'] == 'pass' and 'older sendmail.cf: not judged' in stale['evidence']


def test_the_weak_profile_fails_on_its_options():
    lines = ['ServerSSLOptions=' + WEAK, 'ClientSSLOptions=' + WEAK, 'CipherList=DEFAULT:@SECLEVEL=0']
    found = evaluate_control(BY_ID['SM-TLS-05'], expected()['SM-TLS-05'], tls_state(lines))
    assert found['actual'] == ('ServerSSLOptions leaves SSL 3, TLS 1.0, TLS 1.1 on; ClientSSLOptions leaves SSL 3, TLS 1.0, TLS 1.1 on; '
                               'CipherList: @SECLEVEL=0 lets TLS 1.0, TLS 1.1 and weak keys back in')


def test_starttls_configured_but_not_offered_fails():
    found = evaluate_control(BY_ID['SM-TLS-03'], expected()['SM-TLS-03'], tls_state(daemons=[daemon(starttls=False)]))
    assert found['status'] == 'fail' and found['actual'] == 'MTA-v4 127.0.0.1:25 offers no STARTTLS over the wire'
    asked = expected({'SM-TLS-03': {'cert': '/etc/ssl/mail.pem', 'key': '/etc/ssl/mail.key'}})['SM-TLS-03']
    assert 'ServerCertFile=/etc/mail/tls/sendmail-server.crt, not /etc/ssl/mail.pem' in evaluate_control(
        BY_ID['SM-TLS-03'], asked, tls_state())['actual']


@pytest.mark.parametrize('until, status', [
    ('2036-12-04T18:26:25Z', 'pass'), ('2026-12-20T00:00:00Z', 'fail'), ('2026-01-01T00:00:00Z', 'fail'), ('2027-01-07T19:00:00Z', 'pass'),
])
def test_certificate_expiry_within_the_window(until, status):
    state = tls_state(cert_until=until, daemons=[daemon(not_after_=until)])
    found = evaluate_control(BY_ID['SM-TLS-04'], expected()['SM-TLS-04'], state)
    assert found['status'] == status
    if until.startswith('2026-01'):
        assert 'expired on 2026-01-01' in found['actual']
    assert evaluate_control(BY_ID['SM-TLS-04'], {'days': 400}, state)['status'] == ('fail' if until < '2028' else 'pass')


# --- the plans ----------------------------------------------------------------------------------


def test_the_hardening_sets_the_floor_ciphers_and_p_and_keeps_the_sites_words():
    lines = ['ServerSSLOptions=' + WEAK + ' SSL_OP_CIPHER_SERVER_PREFERENCE', 'CipherList=DEFAULT:@SECLEVEL=0', 'AuthOptions=A']
    steps, notes = option_steps(['SM-TLS-05', 'SM-TLS-06'], expected(), tls_state(lines))
    assert notes == []
    assert {item['option']: (item['define'], item['after']) for item in steps} == {
        'ServerSSLOptions': ('confSERVER_SSL_OPTIONS', 'SSL_OP_CIPHER_SERVER_PREFERENCE ' + FLOOR),
        'ClientSSLOptions': ('confCLIENT_SSL_OPTIONS', FLOOR),
        'CipherList': ('confCIPHER_LIST', STRONG_CIPHERS),
        'AuthOptions': ('confAUTH_OPTIONS', 'A,p'),
    }


def test_a_strong_cipher_list_is_kept():
    steps, _notes = option_steps(['SM-TLS-05'], expected(), tls_state(['CipherList=HIGH:!aNULL']))
    assert 'CipherList' not in {item['option'] for item in steps}


def test_starttls_is_named_only_with_a_certificate_and_key_given_else_one_manual_step():
    steps, notes = option_steps(['SM-TLS-03'], expected(), stock_state())
    assert steps == [] and len(notes) == 1
    assert notes[0]['kind'] == 'manual' and notes[0]['why'] == BY_ID['SM-TLS-03']['fix']
    given = expected({'SM-TLS-03': {'cert': '/etc/ssl/mail.pem', 'key': '/etc/ssl/private/mail.key'}})
    state = stock_state()
    state['paths']['/etc/ssl/mail.pem'] = entry('/etc/ssl/mail.pem', 'root', 'root', '0644')
    state['paths']['/etc/ssl/private/mail.key'] = entry('/etc/ssl/private/mail.key', 'smmta', 'smmta', '0600')
    steps, notes = option_steps(['SM-TLS-03'], given, state)
    assert notes == [] and {item['option']: item['after'] for item in steps} == {
        'ServerCertFile': '/etc/ssl/mail.pem', 'ServerKeyFile': '/etc/ssl/private/mail.key', 'CACertFile': '/etc/ssl/mail.pem',
        'CACertPath': '/etc/ssl'}
    # A file that is not there is never named: sendmail would go on without STARTTLS, and say nothing.
    del state['paths']['/etc/ssl/private/mail.key']
    steps, notes = option_steps(['SM-TLS-03'], given, state)
    assert [item['option'] for item in steps] == ['ServerCertFile', 'CACertFile', 'CACertPath']
    assert [note['why'] for note in notes] == [
        'ServerKeyFile left as it is: /etc/ssl/private/mail.key does not exist; put it there, or name another in expected.SM-TLS-03']


def test_the_files_a_fix_would_name_are_read_with_the_host():
    overrides = {'SM-TLS-03': {'cert': '/etc/ssl/mail.pem', 'key': '/etc/ssl/private/mail.key'}}
    assert named_file_paths([BY_ID['SM-TLS-03'], BY_ID['SM-SMTP-03']], 'Debian', overrides) == [
        '/etc/ssl/mail.pem', '/etc/ssl/private/mail.key']
    assert named_file_paths([BY_ID['SM-TLS-03']], 'Debian', {}) == []


def test_the_certificate_files_are_judged_as_paths():
    state = tls_state()
    state = copy.deepcopy(state)
    state['paths']['/etc/mail/tls/sendmail-server.crt'] = entry('/etc/mail/tls/sendmail-server.crt', 'smmsp', 'smmsp', '0664')
    found = evaluate_control(BY_ID['SM-TLS-02'], expected()['SM-TLS-02'], state)
    assert found['status'] == 'fail' and 'owner smmsp, not root or root' in found['actual'] and '0020 beyond 0644' in found['actual']


# --- a self-signed pair, where the user asks for one -------------------------------------------------

SELF = {'cert': '/etc/mail/sendmail-selfsigned.crt', 'key': '/etc/mail/sendmail-selfsigned.key', 'self_signed': True}


def predicted_stock(runas=None):
    """A stock host as the plan leaves it once ServerCertFile and ServerKeyFile name the pair (and RunAsUser)."""
    text = read('bookworm', 'sendmail.cf')
    for option, value in (('ServerCertFile', SELF['cert']), ('ServerKeyFile', SELF['key'])) + ((('RunAsUser', runas),) if runas else ()):
        text = set_line(text, option, value)
    state = with_cf(stock_state(), text)
    state['layout'].update(layout(state['configs'], None, []))
    for path in (SELF['cert'], SELF['key']):
        state['paths'][path] = {'path': path, 'exists': False, 'error': None}
    state['transit'] = {'openssl': '/usr/bin/openssl', 'host_name': 'mail.lab.test'}
    return state


def test_a_pair_is_made_only_where_asked_and_its_key_is_the_mta_users():
    assert self_signed_steps(['SM-TLS-03'], expected(), predicted_stock()) == []
    (made,) = self_signed_steps(['SM-TLS-03'], expected({'SM-TLS-03': SELF}), predicted_stock())
    assert (made['kind'], made['phase'], made['target']) == ('self_signed', 'paths', SELF['key'])
    assert made['after'] == {'cert': SELF['cert'], 'key': SELF['key'], 'owner': 'root', 'group': 'root', 'days': 825,
                             'subject': '/CN=mail.lab.test', 'openssl': '/usr/bin/openssl'}
    (made,) = self_signed_steps(['SM-TLS-03'], expected({'SM-TLS-03': SELF}), predicted_stock('smmta:smmsp'))
    assert (made['after']['owner'], made['after']['group']) == ('smmta', 'smmta')
    # the cf_option steps name the pair, with the CA certificates sendmail needs; nothing is left by hand
    steps, notes = option_steps(['SM-TLS-03'], expected({'SM-TLS-03': SELF}), stock_with_pair_asked('/usr/bin/openssl'))
    assert notes == [] and {item['option']: item['after'] for item in steps} == {
        'ServerCertFile': SELF['cert'], 'ServerKeyFile': SELF['key'], 'CACertFile': SELF['cert'], 'CACertPath': '/etc/mail'}


def stock_with_pair_asked(openssl):
    """A stock host as read, neither file of the pair there, with or without openssl."""
    state = stock_state()
    for path in (SELF['cert'], SELF['key']):
        state['paths'][path] = {'path': path, 'exists': False, 'error': None}
    state['transit'] = {'openssl': openssl, 'host_name': 'mail.lab.test'}
    return state


def test_without_openssl_no_pair_is_made_and_nothing_is_named_one_note_says_why():
    given = expected({'SM-TLS-03': SELF})
    state = stock_with_pair_asked(None)
    steps, notes = option_steps(['SM-TLS-03'], given, state)
    assert steps == []
    assert [(note['kind'], note['why']) for note in notes] == [(
        'manual', 'a self-signed pair was asked for, but the host has no openssl: install it, or name a certificate and key '
        'with sendmail_hardening_tls_cert_file and sendmail_hardening_tls_key_file')]
    predicted = predicted_stock()
    predicted['transit']['openssl'] = None
    assert self_signed_steps(['SM-TLS-03'], given, predicted) == []
    # the other transit fixes go on: the floor is set all the same
    steps, notes = option_steps(['SM-TLS-03', 'SM-TLS-05'], given, state)
    assert len(notes) == 1 and {item['id'] for item in steps} == {'SM-TLS-05'}


def test_the_read_stage_keeps_the_openssl_it_was_given():
    configs = stock_state()['configs']
    assert transit_state(configs, None, '/usr/bin/openssl')['openssl'] == '/usr/bin/openssl'
    assert transit_state(configs, None)['openssl'] is None


def test_half_a_pair_is_refused_and_a_whole_one_is_named_as_it_is():
    state = predicted_stock()
    state['paths'][SELF['cert']] = entry(SELF['cert'], 'root', 'root', '0644')
    (refused,) = self_signed_steps(['SM-TLS-03'], expected({'SM-TLS-03': SELF}), state)
    assert refused['kind'] == 'refuse' and refused['why'].startswith('/etc/mail/sendmail-selfsigned.crt exists without its key')
    state['paths'][SELF['key']] = entry(SELF['key'], 'root', 'root', '0600')
    assert self_signed_steps(['SM-TLS-03'], expected({'SM-TLS-03': SELF}), state) == []


@pytest.mark.skipif(os.geteuid() != 0, reason='makes root-owned files')
def test_the_pair_is_made_with_openssl_in_a_root_only_directory_and_undone(tmp_path):
    openssl = shutil.which('openssl')
    if not openssl:
        pytest.skip('no openssl here')
    os.chmod(tmp_path, 0o755)
    after = {'cert': str(tmp_path / 'c.pem'), 'key': str(tmp_path / 'k.pem'), 'owner': 'root', 'group': 'root', 'days': 30,
             'subject': '/CN=mail.lab.test', 'openssl': openssl}
    item = {'id': 'SM-TLS-03', 'kind': 'self_signed', 'target': after['key'], 'after': after}
    assert KINDS['self_signed']['probe'](item, {}) is None

    def run(argv):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    assert _apply_selfsigned.make_pair(item, run) == {'changed': True, 'refused': None, 'error': None}
    assert (os.stat(after['key']).st_mode & 0o7777, os.stat(after['cert']).st_mode & 0o7777) == (0o600, 0o644)
    assert certificate_state(after['cert'])['not_after'] and _apply_selfsigned.still(item)
    assert 'exists; refusing to replace it' in _apply_selfsigned.make_pair(item, run)['refused']
    assert _apply_selfsigned.undo(item) is None and not os.path.exists(after['key']) and not os.path.exists(after['cert'])
    os.chmod(tmp_path, 0o777)
    assert 'can be written by others than root' in KINDS['self_signed']['probe'](item, {})
    assert KINDS['self_signed']['probe'](dict(item, after=dict(after, openssl=None)), {}).startswith('no openssl program')
