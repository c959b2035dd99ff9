# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Pure functions on where sendmail's daemons listen (DaemonPortOptions) and where its MSP submits.

sendmail reads a DaemonPortOptions value as comma-separated ``key=value`` pairs and tells the keys
by their first letter (``Addr``, ``A``, ``Address`` are one key; daemon.c, setsockaddroptions);
without ``Addr`` it listens on every address of its family, and without ``Family`` that family is
inet. A host that is not a relay has every daemon on a loopback address; ``loopback_value`` puts
one there and keeps the other pairs as written.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import port_items

# The address each family is given, and the families that have no network address at all.
LOOPBACK = {'inet': '127.0.0.1', 'inet6': '::1'}
LOCAL_FAMILIES = ('local', 'unix')
# Names that are loopback wherever sendmail runs (it resolves Addr and the MSP's relay host).
LOOPBACK_NAMES = ('localhost',)
# The daemon sendmail runs when its .cf names none (daemon.c): the MTA on port 25 of every inet address.
DEFAULT_DAEMON = 'Name=MTA'
# The MSP's default relay host when FEATURE(`msp') is given none (cf/feature/msp.m4).
MSP_DEFAULT_HOST = '[localhost]'


def daemons(values: list) -> list:
    """The DaemonPortOptions sendmail runs with: those given, else its default daemon."""
    return list(values) if values else [DEFAULT_DAEMON]


def _get(pairs: list, letter: str):
    """The setting of the last key starting with ``letter`` (either case, as sendmail reads it), None if absent."""
    found = None
    for key, setting in pairs:
        if key[:1].upper() == letter and setting is not None:  # sendmail skips an item without '='
            found = setting
    return found


def family(value: str) -> str:
    """inet (the default), inet6, local, or the family as written."""
    return (_get(port_items(value), 'F') or 'inet').lower()


def address(value: str):
    """The Addr of a DaemonPortOptions value; None: every address."""
    return _get(port_items(value), 'A')


def is_loopback(host) -> bool:
    """Whether an address or host name, bracketed or not (``[127.0.0.1]``, ``[IPv6:::1]``), is loopback."""
    text = (host or '').strip()
    if text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    text = re.sub(r'^IPv6:', '', text, flags=re.IGNORECASE)
    if text.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def name_of(value: str) -> str:
    return _get(port_items(value), 'N') or 'a daemon'


def problem(value: str):
    """Why a daemon is reachable from other hosts (None: loopback or a local socket)."""
    kind = family(value)
    if kind in LOCAL_FAMILIES:
        return None
    where = address(value)
    if where is None:
        return '%s listens on every %s address' % (name_of(value), kind)
    if not is_loopback(where):
        return '%s listens on %s' % (name_of(value), where)
    return None


def loopback_value(value: str) -> str:
    """``value`` with its daemon on the loopback address of its family; unchanged when it is already
    there, for a local socket, or for a family with no loopback address known here."""
    kind = family(value)
    if problem(value) is None or kind not in LOOPBACK:
        return value
    pairs = port_items(value)
    if address(value) is None:
        return value.rstrip().rstrip(',') + ', Addr=' + LOOPBACK[kind]
    items = []
    for key, setting in pairs:
        if key[:1].upper() == 'A':
            setting = LOOPBACK[kind]
        items.append(key if setting is None else '%s=%s' % (key, setting))
    return ', '.join(items)


def unmovable(values: list) -> list:
    """The daemons ``loopback_value`` cannot move: a family without a loopback address known here."""
    return [value for value in values if problem(value) and family(value) not in LOOPBACK]


def msp_host_problem(mta_host, msp_exists: bool):
    """Why the MSP would lose its MTA once the MTA listens on loopback only (None: it submits to loopback)."""
    if not msp_exists:
        return None
    host = mta_host if mta_host is not None else MSP_DEFAULT_HOST
    if is_loopback(host):
        return None
    return ('the MSP submits to %s ({MTAHost} of submit.cf), which an MTA on loopback only would not answer: '
            "point FEATURE(`msp') at [127.0.0.1] first" % host)


# Port names sendmail's daemons are given in Debian's and upstream's configurations.
PORT_NAMES = {'smtp': '25', 'submission': '587', 'smtps': '465'}


def port(value: str) -> str:
    """The port of a daemon, as a number where its name is known (none given: smtp)."""
    given = _get(port_items(value), 'P') or 'smtp'
    return PORT_NAMES.get(given.lower(), given)


def built_problems(values: list, ipv6_loopback: bool, mta_host, msp_exists: bool) -> list:
    """Why the daemons of a new .cf would not do: one still beyond loopback, two on one address and port (the
    second bind fails and sendmail exits), inet6 daemons on a host without ::1, or no daemon left where the
    MSP submits (port 25 of its loopback family)."""
    values = daemons(values)
    found = [reason for reason in (problem(value) for value in values) if reason]
    bound = {}
    for value in values:
        key = (family(value), address(value), port(value))
        if key in bound:
            found.append('%s and %s would both bind %s port %s' % (name_of(bound[key]), name_of(value), key[1], key[2]))
        bound[key] = value
    if not ipv6_loopback and any(family(value) == 'inet6' for value in values):
        found.append('this host has no ::1 for its inet6 daemons to listen on')
    host = mta_host if mta_host is not None else MSP_DEFAULT_HOST
    if msp_exists and is_loopback(host):
        wanted = 'inet6' if ':' in host.strip('[]').replace('IPv6:', '', 1) or 'IPv6:' in host else 'inet'
        if not any(family(value) == wanted and port(value) == '25' for value in values):
            found.append("no %s daemon on port 25 would take the MSP's mail (it submits to %s)" % (wanted, host))
    return found
