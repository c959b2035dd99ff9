# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Pure readers of what sendmail's STARTTLS and SMTP AUTH options say, and of a certificate's expiry.

- ``ServerSSLOptions`` and ``ClientSSLOptions`` (readcf.c, readssloptions): words separated by blanks or
  commas, each an ``SSL_OP_*`` name (case does not matter) or a number, set or, with a leading ``-``,
  cleared, in order, on sendmail's default (``SSL_OP_ALL``, which switches no protocol off).
- ``CipherList``: an OpenSSL cipher string (ciphers(1)); it does not apply to TLS 1.3.
- ``AuthOptions``: single letters with blanks or commas between; ``p`` keeps PLAIN and LOGIN back until a
  security layer (STARTTLS) is active (doc/op/op.me).
- A certificate's notAfter, read from its DER encoding (RFC 5280: Certificate, tbsCertificate, validity).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import posixpath
import re

# The protocols the floor switches off, with the bit each SSL_OP_NO_* option has in OpenSSL 1.1 and 3.
FLOOR_OPTIONS = (('SSL_OP_NO_SSLv3', 0x02000000, 'SSL 3'), ('SSL_OP_NO_TLSv1', 0x04000000, 'TLS 1.0'),
                 ('SSL_OP_NO_TLSv1_1', 0x10000000, 'TLS 1.1'))
# The SASL mechanisms that send the password as it is.
PLAINTEXT_MECHANISMS = ('PLAIN', 'LOGIN')
# Cipher-string words that bring in suites without encryption, without authentication, or broken ones.
WEAK_CIPHER_WORDS = ('NULL', 'eNULL', 'aNULL', 'COMPLEMENTOFALL', 'EXPORT', 'EXP', 'EXPORT40', 'EXPORT56', 'LOW', 'RC4',
                     '3DES', 'DES', 'ADH', 'AECDH', 'MD5', 'RC2', 'IDEA', 'SEED')
# Suite names (their parts) that are weak wherever they appear: EXP-RC4-MD5, DES-CBC3-SHA, ADH-AES128-SHA, NULL-SHA.
_WEAK_SUITE = re.compile(r'(^|-)(EXP|NULL|RC4|RC2|DES|DES-CBC3|ADH|AECDH|MD5)(-|$)')
# The suites ALL brings in that no client should be offered: anonymous ones, unless taken away.
_ALL_WORDS = ('ALL', 'COMPLEMENTOFDEFAULT')
_SECLEVEL = re.compile(r'^@SECLEVEL=(\d+)$')


def _words(value) -> list:
    return [word for word in re.split(r'[\s,]+', value or '') if word]


def ssl_floor_missing(value) -> list:
    """The protocols of FLOOR_OPTIONS that an SSL options value leaves on (its words applied in order)."""
    off = set()
    for word in _words(value):
        clear = word.startswith('-')
        name = word.lstrip('+-')
        if name[:1].isdigit():
            try:
                bits = int(name, 0)
            except ValueError:
                continue
            touched = {option for option, bit, _label in FLOOR_OPTIONS if bits & bit}
        else:
            touched = {option for option, _bit, _label in FLOOR_OPTIONS if option.lower() == name.lower()}
        off = off - touched if clear else off | touched
    return [label for option, _bit, label in FLOOR_OPTIONS if option not in off]


def ssl_floor_value(current) -> str:
    """An SSL options value that switches the floor's protocols off: the current words but those that clear
    them, then each floor option the current words do not set."""
    floor_bits = sum(bit for _option, bit, _label in FLOOR_OPTIONS)
    kept = []
    for word in _words(current):
        name = word.lstrip('+-')
        named = any(name.lower() == option.lower() for option, _bit, _label in FLOOR_OPTIONS)
        if word.startswith('-') and (named or (name[:1].isdigit() and _number(name) & floor_bits)):
            continue
        kept.append(word)
    missing = ssl_floor_missing(' '.join(kept))
    kept += ['+' + option for option, _bit, label in FLOOR_OPTIONS if label in missing]
    return ' '.join(kept)


def _number(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        return 0


def cipher_problems(value) -> list:
    """Why a CipherList lets weak suites in, one phrase each; empty when it does not (unset: OpenSSL's default,
    which leaves them out)."""
    if value is None:
        return []
    words = [word for word in re.split(r'[\s:,]+', value) if word]
    removed = {word[1:] for word in words if word[:1] in '!-'}
    problems = []
    for word in words:
        level = _SECLEVEL.match(word)
        if level:
            if int(level.group(1)) < 1:
                problems.append('%s lets TLS 1.0, TLS 1.1 and weak keys back in' % word)
            continue
        if word[:1] in '!-+@':
            continue
        parts = word.split('+')
        weak = [part for part in parts if part in WEAK_CIPHER_WORDS or _WEAK_SUITE.search(part)]
        if weak:
            problems.append('%s brings in %s suites' % (word, '/'.join(weak)))
        elif word in _ALL_WORDS and not {'aNULL', 'ADH'} & removed:
            problems.append('%s brings in anonymous suites (no !aNULL)' % word)
    return problems


def auth_words(value) -> list:
    """The letters of an AuthOptions value."""
    return _words(value)


def auth_options_value(current) -> str:
    """An AuthOptions value with ``p``: the current letters, then ``p`` where it is not among them."""
    words = auth_words(current)
    return ','.join(words if 'p' in words else words + ['p'])


def plaintext_mechanisms(value) -> list:
    """The plaintext SASL mechanisms an AuthMechanisms value (or an EHLO AUTH line's words) names."""
    return [word.upper() for word in _words(value) if word.upper() in PLAINTEXT_MECHANISMS]


# --- certificates -----------------------------------------------------------------------------------

_PEM = re.compile(r'-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----', re.S)


def pem_certificates(text: str) -> list:
    """The DER bytes of each certificate in a PEM text, in order."""
    found = []
    for body in _PEM.findall(text or ''):
        try:
            found.append(base64.b64decode(''.join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def _tlv(data: bytes, pos: int) -> tuple:
    """(tag, start of the contents, end of the contents) of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if not 0 < count <= 4:
            raise ValueError('DER length of %d bytes' % count)
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    if pos + length > len(data):
        raise ValueError('DER element runs past the end')
    return tag, pos, pos + length


def _time(tag: int, text: bytes) -> datetime.datetime:
    value = text.decode('ascii')
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ, years 1950-2049 (RFC 5280, 4.1.2.5.1)
        year = int(value[:2])
        value = ('19' if year >= 50 else '20') + value
    elif tag != 0x18:  # GeneralizedTime: YYYYMMDDHHMMSSZ
        raise ValueError('validity time of tag 0x%02x' % tag)
    return datetime.datetime.strptime(value.rstrip('Z'), '%Y%m%d%H%M%S')


def not_after(der: bytes) -> datetime.datetime:
    """The notAfter of a DER certificate, as a naive UTC datetime; ValueError when it is not one."""
    try:
        tag, start, _end = _tlv(der, 0)  # Certificate
        if tag != 0x30:
            raise ValueError('not a certificate')
        tag, pos, end = _tlv(der, start)  # tbsCertificate
        if tag != 0x30:
            raise ValueError('no tbsCertificate')
        if der[pos] == 0xa0:  # [0] version
            pos = _tlv(der, pos)[2]
        for _field in ('serialNumber', 'signature', 'issuer'):
            pos = _tlv(der, pos)[2]
        tag, pos, _end = _tlv(der, pos)  # validity
        if tag != 0x30 or pos >= end:
            raise ValueError('no validity')
        pos = _tlv(der, pos)[2]  # notBefore
        tag, start, stop = _tlv(der, pos)
        return _time(tag, der[start:stop])
    except IndexError as exc:
        raise ValueError('truncated certificate') from exc


# --- the values the hardening sets (``derive`` of the catalogue's cf_option actions) ------------------


def derive_ssl_floor(current, expected: dict, params: dict) -> str:
    return ssl_floor_value(current)


def derive_cipher_list(current, expected: dict, params: dict) -> str:
    """The CipherList in force where it lets no weak suite in, else the expected one."""
    return current if current and not cipher_problems(current) else expected['cipher_list']


def derive_auth_options(current, expected: dict, params: dict) -> str:
    return auth_options_value(current)


def derive_ca_file(current, expected: dict, params: dict):
    """The CACertFile in force, else the certificate given; None where neither is there."""
    return current or expected.get('cert')


def derive_ca_path(current, expected: dict, params: dict):
    """The CACertPath in force, else the directory of the certificate given; None where neither is there."""
    return current or (posixpath.dirname(expected['cert']) if expected.get('cert') else None)


DERIVE = {'ssl_floor': derive_ssl_floor, 'cipher_list': derive_cipher_list, 'auth_options': derive_auth_options,
          'ca_file': derive_ca_file, 'ca_path': derive_ca_path}
