# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""What sendmail's daemons offer over the wire: an SMTP client on the host, with the standard library only.

For each address a daemon listens on (DaemonPortOptions), the client reads the greeting, sends EHLO and
notes whether STARTTLS is offered and which AUTH mechanisms are; then it starts TLS as an ordinary client
would (the protocol and cipher agreed, the server certificate's expiry, the AUTH mechanisms after it), and
once more for each protocol version alone, to see which ones the daemon accepts. The configuration says
what sendmail was told; this says what it does (a key it refused turns STARTTLS off without a word).

It sends no mail: EHLO, STARTTLS and QUIT only. The old versions are tried with OpenSSL's security level 0 on
this side, so that the answer is the daemon's, not this client's policy.
"""

from __future__ import annotations

import socket
import ssl
import warnings

from ansible_collections.mailsec.sendmail.plugins.module_utils._plan_listen import address, daemons, family, name_of, port
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_tls import not_after

# The versions tried one by one: Python's name, and how reports name it.
VERSIONS = (('TLSv1', 'TLS 1.0'), ('TLSv1_1', 'TLS 1.1'), ('TLSv1_2', 'TLS 1.2'), ('TLSv1_3', 'TLS 1.3'))
# Where a daemon without Addr listens, as a client on the host reaches it.
ANY_ADDRESS = {'inet': '127.0.0.1', 'inet6': '::1'}
EHLO_NAME = 'mailsec-probe.invalid'
TIMEOUT = 10


def targets(daemon_values: list) -> list:
    """(name, host, port) of each TCP daemon, once each; a daemon on every address is reached on loopback."""
    found = []
    for value in daemons(daemon_values):
        kind = family(value)
        if kind not in ANY_ADDRESS:
            continue
        host = address(value)
        if not host or host in ('0.0.0.0', '::', '[::]'):
            host = ANY_ADDRESS[kind]
        item = (name_of(value), host.strip('[]'), int(port(value)) if str(port(value)).isdigit() else 25)
        if item[1:] not in [other[1:] for other in found]:
            found.append(item)
    return found


class _Session:
    """One SMTP conversation; each reply is its lines, the code of the last one first."""

    def __init__(self, host: str, number: int):
        self.sock = socket.create_connection((host, number), timeout=TIMEOUT)
        self.stream = self.sock.makefile('rb')
        self.greeting = self.reply()

    def reply(self) -> tuple:
        lines = []
        while True:
            raw = self.stream.readline(4096)
            if not raw:
                raise ConnectionError('the daemon closed the connection')
            line = raw.decode('utf-8', 'replace').rstrip('\r\n')
            lines.append(line)
            if len(line) < 4 or line[3] != '-':
                return (int(line[:3]) if line[:3].isdigit() else 0), lines

    def ask(self, command: str) -> tuple:
        self.sock.sendall(command.encode('ascii') + b'\r\n')
        return self.reply()

    def ehlo(self) -> dict:
        code, lines = self.ask('EHLO ' + EHLO_NAME)
        words = [line[4:].split() for line in lines[1:] if len(line) > 4]
        return {'code': code, 'extensions': sorted({w[0].upper() for w in words if w}),
                'auth': next((w[1:] for w in words if w and w[0].upper() == 'AUTH'), [])}

    def starttls(self, context: ssl.SSLContext, server: str) -> None:
        code, lines = self.ask('STARTTLS')
        if code != 220:
            raise ConnectionError('STARTTLS answered %s' % ' / '.join(lines))
        self.stream.close()
        self.sock = context.wrap_socket(self.sock, server_hostname=None if ':' in server else server)
        self.stream = self.sock.makefile('rb')

    def close(self) -> None:
        try:
            self.ask('QUIT')
        except (OSError, ValueError, ConnectionError):
            pass
        self.stream.close()
        self.sock.close()


def _context(version: str | None = None) -> ssl.SSLContext:
    """A client that trusts any certificate (only the protocol is probed); one version alone when given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if version:
        with warnings.catch_warnings():  # Python deprecates TLS 1.0 and 1.1: asking for them is the point here
            warnings.simplefilter('ignore', DeprecationWarning)
            if version != 'TLSv1_3':
                context.set_ciphers('ALL:@SECLEVEL=0')
            chosen = getattr(ssl.TLSVersion, version)
            context.minimum_version = chosen
            context.maximum_version = chosen
    return context


def _why(exc: BaseException) -> str:
    text = getattr(exc, 'reason', None) or str(exc) or type(exc).__name__
    return str(text)


def _handshake(host: str, number: int, version: str) -> str:
    """'accepted' or why not, for one protocol version alone."""
    try:
        context = _context(version)
    except (ValueError, AttributeError, ssl.SSLError) as exc:
        return 'not tried: this client cannot offer it (%s)' % _why(exc)
    try:
        session = _Session(host, number)
    except OSError as exc:
        return 'not tried: %s' % _why(exc)
    try:
        session.ehlo()
        session.starttls(context, host)
        return 'accepted'
    except (OSError, ssl.SSLError, ConnectionError, ValueError) as exc:
        return 'refused: %s' % _why(exc)
    finally:
        try:
            session.close()
        except OSError:
            pass


def probe_daemon(name: str, host: str, number: int, versions: bool = True) -> dict:
    """What one daemon offers: see the module's docstring. ``error`` says why nothing could be asked."""
    found = {'name': name, 'address': host, 'port': number, 'error': None, 'greeting': None, 'starttls': False,
             'auth_before': [], 'auth_after': None, 'tls': None, 'versions': {}}
    try:
        session = _Session(host, number)
    except OSError as exc:
        found['error'] = 'cannot connect to %s port %d: %s' % (host, number, _why(exc))
        return found
    try:
        found['greeting'] = session.greeting[1][0] if session.greeting[1] else None
        before = session.ehlo()
        found['starttls'] = 'STARTTLS' in before['extensions']
        found['auth_before'] = before['auth']
        if found['starttls']:
            session.starttls(_context(), host)
            der = session.sock.getpeercert(binary_form=True)
            cipher = session.sock.cipher()
            expiry = None
            try:
                expiry = not_after(der).strftime('%Y-%m-%dT%H:%M:%SZ') if der else None
            except ValueError:
                pass
            found['tls'] = {'version': session.sock.version(), 'cipher': cipher[0] if cipher else None, 'not_after': expiry}
            found['auth_after'] = session.ehlo()['auth']
    except (OSError, ssl.SSLError, ConnectionError, ValueError) as exc:
        found['error'] = '%s port %d: %s' % (host, number, _why(exc))
    finally:
        try:
            session.close()
        except OSError:
            pass
    if found['starttls'] and versions:
        found['versions'] = {label: _handshake(host, number, version) for version, label in VERSIONS}
    return found


def probe(daemon_values: list, running: bool) -> dict:
    """What each daemon offers; ``ran`` False (and why) where no daemon runs to ask."""
    if not running:
        return {'ran': False, 'why': 'the MTA daemon is not running', 'daemons': []}
    return {'ran': True, 'why': None, 'daemons': [probe_daemon(*item) for item in targets(daemon_values)]}


def accepted(found: dict) -> dict:
    """Protocol label -> the daemons (name address:port) that accept it, over every daemon probed."""
    seen = {}
    for daemon in found.get('daemons') or []:
        for label, outcome in (daemon.get('versions') or {}).items():
            if outcome == 'accepted':
                seen.setdefault(label, []).append('%s %s:%d' % (daemon['name'], daemon['address'], daemon['port']))
    return seen


def evidence(daemon: dict) -> str:
    """One daemon's answers in one line."""
    where = '%s %s:%d' % (daemon['name'], daemon['address'], daemon['port'])
    if daemon.get('error') and daemon.get('greeting') is None:
        return 'wire: %s' % daemon['error']
    parts = ['STARTTLS %s' % ('offered' if daemon['starttls'] else 'not offered'),
             'AUTH before STARTTLS: %s' % (' '.join(daemon['auth_before']) or 'none')]
    if daemon.get('tls'):
        parts.append('negotiated %s %s' % (daemon['tls']['version'], daemon['tls']['cipher']))
        if daemon['tls'].get('not_after'):
            parts.append('certificate until %s' % daemon['tls']['not_after'])
        parts.append('AUTH after STARTTLS: %s' % (' '.join(daemon.get('auth_after') or []) or 'none'))
    if daemon.get('versions'):
        parts.append('handshakes: %s' % ', '.join('%s %s' % (label, outcome) for label, outcome in daemon['versions'].items()))
    if daemon.get('error'):
        parts.append(daemon['error'])
    return 'wire %s: %s' % (where, '; '.join(parts))
