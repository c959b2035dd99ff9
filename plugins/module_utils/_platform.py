# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Where sendmail lives on each OS family, and how the family's package and service managers keep it.

Every other file of the collection asks this one: no platform path is written anywhere else. Each family
(as ``ansible_facts['os_family']`` names it) says where its package puts sendmail's programs, configuration,
queues, smrsh and statistics, how its package manager records the owners
and modes of the files (``dpkg``: dpkg-statoverride pins them; ``rpm``: the database keeps the package's,
``rpm -V`` tells the differences and an update or ``rpm --setperms`` puts the package's back) and how its
service manager runs the MTA. ``UPSTREAM`` is what sendmail's own build and documentation use.

A host is read with its own family's places first, then every other family's, so that a sendmail
installed by hand where another family puts it is still found. This file uses the standard library only
and imports nothing from Ansible: the documentation generator loads the catalogue, which reads it.
"""

from __future__ import annotations

# A family whose sendmail no package manager records (a base system, a build from source).
NO_PACKAGE = {'package_manager': None, 'package': None, 'statoverride': None, 'package_lists': (), 'program_lists': (),
              'pinned': {}, 'update_hook': None}

DEBIAN = {
    # The program itself (sendmail-bin: /usr/sbin/sendmail and /usr/lib/sendmail link to /usr/lib/sm.bin, moved
    # to /usr/libexec/sendmail in trixie).
    'programs': ('/usr/sbin/sendmail', '/usr/lib/sendmail', '/usr/libexec/sendmail/sendmail', '/usr/lib/sm.bin/sendmail'),
    'program_dirs': ('/usr/sbin', '/usr/lib', '/usr/lib/sm.bin', '/usr/libexec/sendmail'),
    'tools': ('/usr/libexec/sendmail/mailstats', '/usr/lib/sm.bin/mailstats', '/usr/sbin/sensible-mda', '/usr/sbin/makemap',
              '/usr/sbin/editmap'),
    'smrsh_dirs': ('/etc/mail/smrsh',),
    'smrsh_programs': ('/usr/libexec/sendmail/smrsh', '/usr/lib/sm.bin/smrsh'),
    # Local delivery agents that hand the message over to a program of smrsh's directory (sensible-mda runs
    # the first of its links there).
    'handover': {'sensible-mda': ('procmail', 'maildrop', 'deliver', 'mail.local')},
    'pid_files': ('/run/sendmail/mta/sendmail.pid', '/var/run/sendmail/mta/sendmail.pid'),
    'services': {'sendmail': ('/etc/systemd/system/sendmail.service', '/lib/systemd/system/sendmail.service',
                              '/usr/lib/systemd/system/sendmail.service', '/etc/init.d/sendmail')},
    'alternatives': (),
    'own_files': (),
    'package_manager': 'dpkg',
    'package': 'sendmail-bin',
    'statoverride': '/var/lib/dpkg/statoverride',
    'package_lists': ('/var/lib/dpkg/info/sendmail*.list', '/var/lib/dpkg/info/sensible-mda.list',
                      '/var/lib/dpkg/info/rmail.list'),
    'program_lists': ('/var/lib/dpkg/info/sendmail-bin.list',),
    # What the package pins with dpkg-statoverride at install (sendmail-bin's postinst).
    'pinned': {'/usr/libexec/sendmail/sendmail': 'root smmsp 2755', '/usr/libexec/sendmail/mailstats': 'root smmsp 2755'},
    # Every configure of sendmail-bin and every sendmailconfig run update_sendmail, whose update_sys and update_smrsh
    # give these directories back to smmta:smmsp without asking dpkg-statoverride (by the control that judges each).
    'update_hook': {'kind': 'update_sendmail', 'script': '/usr/share/sendmail/update_sendmail',
                    'distrib': '/usr/share/sendmail/update_sendmail.distrib',
                    'resets': {'SM-FILE-01': '/etc/mail', 'SM-PROG-02': '/etc/mail/smrsh', 'SM-QUEUE-01': '/var/spool/mqueue'}},
}

RED_HAT = {
    # The sendmail package of RHEL 8 and 9, their rebuilds and Fedora: the program is sendmail.sendmail, and
    # /usr/sbin/sendmail, /usr/lib/sendmail, mailq and newaliases are links the `mta` alternative manages.
    'programs': ('/usr/sbin/sendmail.sendmail', '/usr/sbin/sendmail', '/usr/lib/sendmail'),
    'program_dirs': ('/usr/sbin', '/usr/lib'),
    'tools': ('/usr/sbin/makemap.sendmail', '/usr/sbin/editmap.sendmail', '/usr/sbin/mailstats', '/usr/sbin/praliases',
              '/usr/sbin/smrsh', '/usr/bin/rmail.sendmail', '/usr/lib/sendmail.sendmail', '/usr/bin/mailq.sendmail',
              '/usr/bin/newaliases.sendmail', '/usr/bin/hoststat', '/usr/bin/purgestat'),
    'smrsh_dirs': ('/etc/smrsh',),
    'smrsh_programs': ('/usr/sbin/smrsh',),
    'handover': {},
    'pid_files': ('/run/sendmail.pid', '/var/run/sendmail.pid'),
    'services': {'sendmail': ('/etc/systemd/system/sendmail.service', '/usr/lib/systemd/system/sendmail.service')},
    'alternatives': ('/etc/alternatives/mta',),
    # Files outside /etc/mail that the package makes for sendmail alone (its %post's self-signed STARTTLS pair): the
    # hardening may change them as it changes /etc/mail's.
    'own_files': ('/etc/pki/tls/certs/sendmail.pem', '/etc/pki/tls/private/sendmail.key'),
    # rpm keeps each file's owner, group and mode in its database: no pin exists, `rpm -V` names each
    # difference and an update puts the package's values back.
    'package_manager': 'rpm',
    'package': 'sendmail',
    'statoverride': None,
    'package_lists': (),
    'program_lists': (),
    'pinned': {},
    # An update or reinstall gives every file its packaged owner and mode back (the package's files: rpm -ql). DNF's
    # post-transaction-actions plugin runs a command after each transaction that installs a package it names.
    'update_hook': {'kind': 'dnf_action', 'plugin': 'python3-dnf-plugin-post-transaction-actions',
                    'actions_dir': '/etc/dnf/plugins/post-transaction-actions.d',
                    'action': '/etc/dnf/plugins/post-transaction-actions.d/mailsec-sendmail.action',
                    'script': '/usr/local/sbin/mailsec-sendmail-keep', 'resets': {}},
}

FREEBSD = {
    # The base system's sendmail, behind mailwrapper and /etc/mail/mailer.conf.
    'programs': ('/usr/libexec/sendmail/sendmail',),
    'program_dirs': ('/usr/sbin', '/usr/libexec/sendmail'),
    'tools': ('/usr/sbin/mailstats', '/usr/sbin/makemap', '/usr/sbin/editmap', '/usr/sbin/praliases'),
    'smrsh_dirs': ('/usr/libexec/sm.bin',),
    'smrsh_programs': ('/usr/libexec/smrsh',),
    'handover': {},
    'pid_files': ('/var/run/sendmail.pid',),
    'services': {'sendmail': ('/etc/rc.d/sendmail',)},
    'alternatives': (),
    'own_files': (),
    **NO_PACKAGE,
    'mailer_conf': '/etc/mail/mailer.conf',
}

# sendmail's own defaults (its Build and smrsh's CMDDIR), for a sendmail installed from source.
UPSTREAM = {
    'programs': ('/usr/lib/sm.bin/sendmail',),
    'program_dirs': ('/usr/sbin', '/usr/lib'),
    'tools': ('/usr/sbin/mailstats', '/usr/bin/mailstats'),
    'smrsh_dirs': ('/usr/adm/sm.bin',),
    'smrsh_programs': ('/usr/libexec/smrsh', '/usr/lib/sm.bin/smrsh'),
    'handover': {},
    'pid_files': ('/var/run/sendmail.pid',),
    'services': {},
    'alternatives': (),
    'own_files': (),
    **NO_PACKAGE,
}

PLATFORMS = {'Debian': DEBIAN, 'RedHat': RED_HAT, 'FreeBSD': FREEBSD}
# In the order a host of an unknown family is read.
_ORDER = ('Debian', 'RedHat', 'FreeBSD')

# Files every family reads the same way: sendmail's configuration is in /etc/mail everywhere.
CONFIGS = {'mta': '/etc/mail/sendmail.cf', 'msp': '/etc/mail/submit.cf'}
MC_FILES = {'mta': '/etc/mail/sendmail.mc', 'msp': '/etc/mail/submit.mc'}
OS_RELEASE = '/etc/os-release'
DEFAULT_BINARY = '/usr/sbin/sendmail'
MAILER_CONF = FREEBSD['mailer_conf']
ALIASES = '/etc/aliases'
# Where syslog daemons read their rules (rsyslog, sysklogd); a glob per entry.
SYSLOG_CONFIGS = ('/etc/rsyslog.conf', '/etc/rsyslog.d/*.conf', '/etc/syslog.conf')
# Where Cyrus SASL looks for an application's configuration (Sendmail.conf), by distribution and architecture.
SASL_CONFIG_DIRS = ('/etc/sasl2', '/etc/sasl', '/usr/lib/sasl2', '/usr/lib64/sasl2', '/usr/lib/x86_64-linux-gnu/sasl2',
                    '/usr/lib/aarch64-linux-gnu/sasl2')
DEFAULT_SASLDB = '/etc/sasldb2'
# The self-signed STARTTLS pair SM-TLS-03's fix makes where asked for one without naming it: beside sendmail.cf, in
# the directory the hardening makes root's (SM-FILE-01), so that the key is never made where another user could write.
SELF_SIGNED = {'cert': '/etc/mail/sendmail-selfsigned.crt', 'key': '/etc/mail/sendmail-selfsigned.key'}
# The empty help file SM-SMTP-03 names where the site gives none.
EMPTY_HELP_FILE = '/etc/mail/helpfile.empty'
# Where the hardening keeps its journal and marks, on every family.
STATE_DIRECTORY = '/var/lib/mailsec-sendmail'


def platform(family: str | None) -> dict:
    """The family's facts; a family this file does not know gets sendmail's own defaults."""
    return PLATFORMS.get(family or '', UPSTREAM)


def places(key: str, family: str | None = None) -> tuple:
    """The family's places of ``key`` first, then every other family's and upstream's, each once: a host is read
    where its package puts things, and still found where a hand install did."""
    order = ([family] if family in PLATFORMS else []) + [name for name in _ORDER if name != family]
    found = []
    for facts in [PLATFORMS[name] for name in order] + [UPSTREAM]:
        for item in facts[key]:
            if item not in found:
                found.append(item)
    return tuple(found)


def services() -> dict:
    """Service name to the files that define it, on every family."""
    merged = {}
    for facts in [PLATFORMS[name] for name in _ORDER] + [UPSTREAM]:
        for name, files in facts['services'].items():
            merged[name] = tuple(dict.fromkeys(merged.get(name, ()) + tuple(files)))
    return merged


def handover() -> dict:
    """Local delivery agent (base name) to the programs of its family's smrsh directory it hands the message to."""
    merged = {}
    for facts in [PLATFORMS[name] for name in _ORDER]:
        for agent, programs in facts['handover'].items():
            merged.setdefault(agent, tuple(facts['smrsh_dirs'][0] + '/' + program for program in programs))
    return merged
