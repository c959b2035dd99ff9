# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The controls catalogue: every control of the sendmail baseline, defined once, as data.

The same definitions drive the audit (``sendmail_drift``), the hardening role and the
generated documentation (``docs/controls.md``). This file uses the standard library only
and imports nothing from Ansible, so the documentation generator can load it by path.

A control is a dict:

``id``, ``title``, ``family`` (one of FAMILIES), ``tags``, ``severity`` (one of SEVERITIES),
``rationale`` (why), ``check`` (what is read, in words), ``evaluator`` (the name of the pure
function in ``_judge`` that judges it) and ``params`` (its fixed arguments: the layout groups
it reads as ``targets``, and ``follow_links`` where it follows symbolic links on purpose),
``needs`` (the configuration files, ``mta``/``msp``, whose settings the check reads; an
unreadable one makes the finding ``error``), ``expected`` (per OS family: ``default`` and
family-specific keys, merged in that order; the module's ``expected`` option overrides
single keys per control id), ``override`` (the schema of those keys: type, null allowed,
choices, meaning; it drives the modules' validation and the documentation),
``fix`` (human text) and ``fix_data`` (a list of machine-readable actions for the
hardening, see below), ``applies`` (``os_family``: None for all, or a list),
``references`` (``book``: the sendmail book, ``stig``: DISA STIG items; empty where none
was found), ``package_note`` (why the baseline differs from what the distribution ships,
or None), and, where a flag of the expected value fills others, ``expected_when`` (flag: the
values its null keys take when it is true, as ``expected_for`` resolves them).

Path specifications (the ``expected`` value of the path controls) hold ``owner`` (allowed
owners; ``@MTAUser`` is the user the MTA runs as (RunAsUser when set, else root);
``@RunAsUser`` and ``@TrustedUser`` stand for the user the MTA's sendmail.cf names,
when it names one; for the groups a control's ``owner_role`` gives to ``msp``, ``@RunAsUser`` is the
RunAsUser of submit.cf), ``group`` (allowed groups, or None for any), ``mode`` (the most
permissive mode allowed: a bit outside it fails), ``require`` (bits that must be set),
``ignore`` (bits another control judges) and ``missing`` (``pass``, ``fail`` or ``error``
when the path does not exist).

Fix actions (``fix_data``) are dicts with a ``kind``:

- ``path_attributes``: for each path the check reads (its ``targets``, following links only
  where the check does), set the owner to the first allowed owner when the current one is
  not allowed, the group likewise, and the mode to ``(current & mode & ~ignore) | require``;
  the values are those of the resolved ``expected``.
- ``clear_mode_bits``: clear ``bits`` on every path the check reads (``statoverride``: pin
  the new mode with dpkg-statoverride too).
- ``cf_option``: set the ``option`` of the ``config`` (``mta``: sendmail.cf, ``msp``:
  submit.cf) to ``value``, and the m4 ``define`` that makes it in the .mc beside it; with ``must_exist``
  only where the file it names exists (else a manual note), and with ``unset`` the control's fix text is
  the note where no value is given.
- ``statoverride``: make dpkg-statoverride pin each ``entries`` path to ``owner group mode``.
- ``mc_feature_add`` / ``mc_feature_remove``: add or remove a ``FEATURE`` in the .mc and rebuild
  the .cf from it; ``in_place`` says how a .cf edited in place gets what the feature builds (the
  ``mailer``'s P= the first of ``paths`` there is, its A= ``argv``).
- ``cf_listen``: put every daemon of the ``config`` on a loopback address (DAEMON_OPTIONS in the
  .mc, DaemonPortOptions where the .cf is edited in place).
- ``alias_disable`` / ``alias_add``, ``empty_file``, ``smrsh_remove``: edit the alias files,
  create an empty file, remove entries of smrsh's directory.
- ``self_signed``: where ``when`` is true, make a self-signed certificate ``cert`` and its key ``key`` where
  neither is there (the key the MTA user's, 0600), with the host's openssl; the ``must_exist`` options of the
  control then name them, and without openssl the control's options are left as they are, with one note.
- ``manual``: no automatic change; the ``fix`` text says what to do.

``REQUIRES``, beside the catalogue, says which fixes need another control's fix for mail to keep
working (dropping the set-user-id bit of the binary needs its set-group-id bit).
"""

from __future__ import annotations

import copy
import re

from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEBIAN, EMPTY_HELP_FILE, SELF_SIGNED, SYSLOG_CONFIGS, places

FAMILIES = ('privilege', 'files', 'queue', 'safety', 'smtp', 'aliases', 'programs', 'logging', 'limits', 'relay', 'transit',
            'privdrop')
# Each family in a heading (the XCCDF Benchmark's Groups).
FAMILY_TITLES = {
    'privilege': 'Privileges: RunAsUser and the set-user-id and set-group-id bits',
    'files': 'Files sendmail reads: owners and modes',
    'queue': 'Mail queues: owners, modes and entries',
    'safety': 'File safety checks: DontBlameSendmail, safe paths, STARTTLS keys',
    'smtp': 'SMTP: probes, queue commands and what the greeting tells',
    'aliases': 'Aliases: the files, their databases and what they run',
    'programs': 'Programs run for mail: smrsh and its directory',
    'logging': 'Logging: the level and where it goes',
    'limits': 'Limits on connections, children, headers and messages',
    'relay': 'Relaying: who may send through the host',
    'transit': 'Mail in transit: STARTTLS offered, its certificates, protocol floor and ciphers, AUTH after STARTTLS',
    'privdrop': 'How sendmail drops privilege: seteuid, setreuid or setuid, and the kernel',
}
# Families whose every fix is manual: the audit judges them, the hardening has nothing to apply.
AUDIT_ONLY_FAMILIES = ('privdrop',)
SEVERITIES = ('high', 'medium', 'low')
STATUSES = ('pass', 'fail', 'error', 'not_applicable', 'waived')
OS_FAMILIES = ('Debian', 'RedHat', 'FreeBSD')

BOOK = 'sendmail 4th ed. '
BOOK_WHY_ROOT = BOOK + '§4.1'
BOOK_DROP = BOOK + '§4.1.1'
BOOK_TABLE = BOOK + 'ch. 4, Table 4-1 (recommended permissions)'
BOOK_OPTIONS = BOOK + '§4.8.2'
BOOK_SAFE_FILE_ENV = BOOK + '§4.8.2.8'
STIG_ALIAS_OWNER = 'DISA STIG GEN004360 (V-831): the alias file must be owned by root'
STIG_ALIAS_MODE = 'DISA STIG GEN004380 (V-832): the alias file must have mode 0644 or less permissive'
BOOK_PROBES = BOOK + '§4.3'
BOOK_ENVIRONMENT = BOOK + '§4.2'
BOOK_STARTTLS = BOOK + 'ch. 5 (authentication and encryption: STARTTLS)'
BOOK_AUTH = BOOK + 'ch. 5 (authentication and encryption: SMTP AUTH)'
# The cipher list the floor's fix sets where the one in force lets weak suites in (OpenSSL ciphers(1) words).
STRONG_CIPHERS = 'HIGH:!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!MD5'

# PrivacyOptions: the words goaway stands for (sendmail.h, PRIV_GOAWAY: the low 16 bits and noreflection),
# and the full set the baseline asks for, as the words sendmail's readcf.c knows.
GOAWAY_WORDS = ('needmailhelo', 'needexpnhelo', 'needvrfyhelo', 'noexpn', 'novrfy', 'authwarnings', 'noverb',
                'noreflection')
PRIVACY_FULL = ['goaway', 'noetrn', 'restrictqrun', 'restrictmailq', 'restrictexpand', 'noreceipts', 'nobodyreturn']
# The macros of the greeting that carry the version: $v (sendmail's) and $Z (the configuration's).
VERSION_MACROS = ('$v', '$Z')
# The denial-of-service limits: option, expected key, m4 define, the most allowed by default, what it bounds.
LIMITS = (
    ('MaxDaemonChildren', 'max_daemon_children', 'confMAX_DAEMON_CHILDREN', '40', 'daemon children at a time'),
    ('ConnectionRateThrottle', 'connection_rate_throttle', 'confCONNECTION_RATE_THROTTLE', '15',
     'connections a second'),
    ('MaxMessageSize', 'max_message_size', 'confMAX_MESSAGE_SIZE', '26214400', 'bytes of a message'),
    ('MaxRecipientsPerMessage', 'max_recipients_per_message', 'confMAX_RCPTS_PER_MESSAGE', '100',
     'recipients of a message'),
    ('MaxHeadersLength', 'max_headers_length', 'confMAX_HEADERS_LENGTH', '32768', 'bytes of the headers'),
)
# ForwardPath policies: keep it as it is, restrict it to the allowed entries, or empty it (no .forward read).
FORWARD_POLICIES = ('keep', 'restrict', 'empty')
# ForwardPath where sendmail.cf sets none (sendmail's built-in value).
DEFAULT_FORWARD_PATH = '$z/.forward'
# Where smrsh looks for the programs it may run (its CMDDIR), and where smrsh itself is installed, on every platform.
SMRSH_DIRS = places('smrsh_dirs')
SMRSH_PROGRAMS = places('smrsh_programs')
# Programs that would run anything they are given: no such link belongs in smrsh's directory.
INTERPRETERS = ('sh', 'bash', 'dash', 'ash', 'ksh', 'ksh93', 'mksh', 'pdksh', 'zsh', 'csh', 'tcsh', 'fish', 'busybox',
                'perl', 'python', 'python2', 'python3', 'ruby', 'php', 'tclsh', 'wish', 'expect', 'lua', 'node', 'nodejs',
                'awk', 'gawk', 'mawk', 'nawk', 'sed', 'env', 'xargs', 'find', 'su', 'sudo')
# What sendmail uses where a numeric option is not set (conf.c, setdefaults).
NUMBER_DEFAULTS = {'LogLevel': 9, 'MaxHeadersLength': 32768}
# Relaying features and the mark each leaves in a .cf built with it (see _text_cf.relay_marks).
RELAY_FEATURES = ('promiscuous_relay', 'relay_based_on_MX')


def _key(kind: str, description: str, nullable: bool = False, choices=None) -> dict:
    """One key of an override schema: its type (one of OVERRIDE_TYPES), whether null is allowed, its choices."""
    return {'type': kind, 'nullable': nullable, 'choices': list(choices) if choices else None, 'description': description}


# What each type of override value must be, in words (for errors and the documentation).
OVERRIDE_TYPES = {
    'str': 'a string',
    'list': 'a list of strings',
    'mode': 'a quoted octal string such as "0644"',
    'choice': 'one of the choices',
    'entries': 'a dict of path: "owner group mode"',
    'bool': 'true or false',
    'int': 'a whole number, 0 or more',
}

PATH_OVERRIDE = {
    'owner': _key('list', 'allowed owners (@RunAsUser, @TrustedUser: the user the MTA config names; @MTAUser: RunAsUser when '
                  'set, else root); a fix sets the first'),
    'group': _key('list', 'allowed groups, or null for any; a fix sets the first', nullable=True),
    'mode': _key('mode', 'most permissive mode allowed'),
    'require': _key('mode', 'bits that must be set'),
    'ignore': _key('mode', 'bits this control does not judge'),
    'missing': _key('choice', 'status when the path does not exist', choices=('pass', 'fail', 'error')),
}


def _path_spec(owner, group=None, mode='0644', require='0000', ignore='0000', missing='fail') -> dict:
    return {'owner': list(owner), 'group': None if group is None else list(group), 'mode': mode,
            'require': require, 'ignore': ignore, 'missing': missing}


# A path fix changes what its check reads: the targets and the follow-the-link rule are the check's own.
PATH_FIX = ({'kind': 'path_attributes'},)


CONTROLS = (
    # --- privilege ------------------------------------------------------------
    {
        'id': 'SM-RUNAS-01',
        'title': 'The MTA daemon gives up root through RunAsUser',
        'family': 'privilege',
        'tags': ['runasuser', 'mta', 'daemon'],
        'severity': 'high',
        'rationale': (
            'Without RunAsUser the listening daemon and every queue runner keep root for their whole life: '
            'a flaw in SMTP parsing, a milter exchange or a map lookup gives root. With RunAsUser the daemon binds '
            'port 25 as root and then becomes an ordinary user for good. The price, to weigh per host: the daemon can '
            'no longer become other users, so ~/.forward files in mode 0700 homes, private :include: lists and '
            'programs run as the recipient stop working, and the queue and every file sendmail writes must belong '
            'to that user.'),
        'check': 'The RunAsUser option of the MTA configuration (sendmail.cf): set, naming an existing user that is not root, '
                 'and equal to the expected user (and group, when one is expected); and every file queued in the MTA queue '
                 'belongs to that user, who must read it to deliver it.',
        'evaluator': 'run_as_user',
        'params': {'config': 'mta', 'queue': 'queue_mta'},
        'needs': ['mta'],
        'expected': {'default': {'user': None, 'group': None}, 'Debian': {'user': 'smmta', 'group': 'smmsp'},
                     'RedHat': {'user': 'mailnull', 'group': 'mailnull'}},
        'override': {'user': _key('str', 'the wanted user, or null for any existing user but root', nullable=True),
                     'group': _key('str', 'the wanted group, or null for any', nullable=True)},
        'fix': "Set define(`confRUN_AS_USER', `user:group') in sendmail.mc (smmta:smmsp on Debian, mailnull:mailnull on Red Hat), "
               "rebuild sendmail.cf, "
               'give the MTA queue, the files queued in it and the statistics file to that user (SM-QUEUE-01, SM-FILE-07) and restart sendmail.',
        # A user without a group (sendmail_hardening_run_as_user: smmta) is set alone: sendmail takes the user's group.
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'RunAsUser', 'define': 'confRUN_AS_USER',
                      'value': '{user}:{group}', 'default': '{user}'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_WHY_ROOT, BOOK_OPTIONS], 'stig': []},
        'package_note': ('Debian creates the smmta user for this purpose but sets no RunAsUser: its MTA runs as root. Red Hat '
                         'creates mailnull (uid 47, no login, its home the MTA queue) for sendmail and sets no RunAsUser either.'),
    },
    {
        'id': 'SM-RUNAS-02',
        'title': 'RunAsUser does not break the mail this host delivers',
        'family': 'privilege',
        'tags': ['runasuser', 'mta', 'forward', 'include'],
        'severity': 'high',
        'rationale': (
            'RunAsUser gives up root for good, and with it three of the four reasons sendmail has root: reading '
            '~/.forward files in mode 0700 homes, expanding :include: lists only their owner can read, and running '
            'programs and writing files as the recipient. None of this fails loudly: a .forward the daemon cannot '
            'read is passed over and the mail goes to the plain mailbox, a program is run as the wrong user or not at '
            'all. Before RunAsUser is set, each of those deliveries must be known and moved; a host that has '
            'RunAsUser already must have none left.'),
        'check': 'Every ForwardPath file of every user in the passwd database (the first that exists; sendmail\'s '
                 'default $z/.forward where ForwardPath is unset), every :include: list named by the alias files or by '
                 'those files, every program or file delivery in them and in the alias files, and the local delivery '
                 'agent, as the RunAsUser would meet them (the one sendmail.cf names, else the one SM-RUNAS-01 expects, '
                 'with its one group): owner, group and mode bits of the file, of each directory on its way and of '
                 'where a link leads. An item is a file that user cannot read; a program or file delivery of a '
                 '.forward or list (refused as unsafe with RunAsUser unless DontBlameSendmail has NonRootSafeAddr, '
                 'else run as that user); an alias that would run or write as that user instead of DefaultUser or '
                 'the owner of a set-user-id file; a local delivery agent that needs root and is not, nor hands over '
                 'to, a set-user-id root program once the hardening has dropped the bits it drops; a STARTTLS certificate '
                 '(ServerCertFile, ClientCertFile, CACertFile) or, where AuthMechanisms is set, the Sendmail.conf of '
                 'Cyrus SASL and the SASL database it names, that the daemon could no longer read; a path root '
                 'cannot look at.',
        'evaluator': 'runas_impact',
        'params': {'config': 'mta'},
        'needs': ['mta'],
        'expected': {'default': {}},
        'override': {},
        'fix': 'Move each listed delivery to one that needs no root (a .forward readable by the RunAsUser, or the '
               'program run from an alias as a dedicated user), or leave RunAsUser unset on this host. The hardening '
               'role leaves RunAsUser unset where items are found (sendmail_hardening_run_as_user_force sets it anyway, '
               'and lists what stops working).',
        'fix_data': [{'kind': 'manual'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_WHY_ROOT, BOOK_DROP], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-TRUST-01',
        'title': 'TrustedUser is unset, root or an expected system user',
        'family': 'privilege',
        'tags': ['trusteduser', 'mta'],
        'severity': 'medium',
        'rationale': (
            'The TrustedUser may own the alias and map databases, the control socket and the directories on the path '
            'to the configuration: sendmail trusts what that user writes as much as what root writes. It must be a '
            'system account nobody logs in as, never an ordinary user.'),
        'check': 'The TrustedUser option of sendmail.cf: unset, root, or an existing system user (uid below 1000) among the allowed users.',
        'evaluator': 'trusted_user',
        'params': {'config': 'mta'},
        'needs': ['mta'],
        'expected': {'default': {'allowed': ['root']}, 'Debian': {'allowed': ['root', 'smmta']}},
        'override': {'allowed': _key('list', 'users TrustedUser may name')},
        'fix': "Remove confTRUSTED_USER from sendmail.mc, or set it to one of the allowed system users; rebuild sendmail.cf.",
        'fix_data': [{'kind': 'manual', 'define': 'confTRUSTED_USER'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_OPTIONS, BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-MSP-01',
        'title': 'The mail submission program runs as smmsp',
        'family': 'privilege',
        'tags': ['runasuser', 'msp', 'submit'],
        'severity': 'high',
        'rationale': (
            'Since V8.12 the sendmail program run by users is not set-user-id root: it is set-group-id smmsp, reads '
            'submit.cf and drops to RunAsUser=smmsp to write the client queue. Without it a queue runner of the MSP '
            'started by root keeps root.'),
        'check': 'The RunAsUser option of the MSP configuration (submit.cf).',
        'evaluator': 'run_as_user',
        'params': {'config': 'msp'},
        'needs': ['msp'],
        'expected': {'default': {'user': 'smmsp', 'group': None}},
        'override': {'user': _key('str', 'the wanted user'), 'group': _key('str', 'the wanted group, or null for any', nullable=True)},
        'fix': "Set define(`confRUN_AS_USER', `smmsp') in submit.mc (FEATURE(`msp') does by default) and rebuild submit.cf.",
        'fix_data': [{'kind': 'cf_option', 'config': 'msp', 'option': 'RunAsUser', 'define': 'confRUN_AS_USER', 'value': '{user}'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_WHY_ROOT], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-SETUID-01',
        'title': 'No sendmail program is set-user-id root',
        'family': 'privilege',
        'tags': ['setuid', 'binaries'],
        'severity': 'high',
        'rationale': (
            'A set-user-id root program runs as root whoever starts it: every local user can reach its bugs. sendmail '
            'itself has not needed it since V8.12, and none of its helpers (mailstats, makemap, editmap, praliases, '
            'smrsh, mail.local, vacation, sensible-mda) needs it when the MTA runs as root or as RunAsUser.'),
        'check': "lstat of every file of the sendmail packages (dpkg lists where present, the known paths of other "
                 'systems, the binary and its links): none may be owned by root with the set-user-id bit, unless listed as allowed.',
        'evaluator': 'setuid_files',
        'params': {},
        'needs': [],
        'expected': {'default': {'allowed': []}},
        'override': {'allowed': _key('list', 'paths allowed to stay set-user-id root')},
        'fix': 'chmod u-s on each file (on Debian also pin the mode with dpkg-statoverride so that an upgrade keeps it).',
        'fix_data': [{'kind': 'clear_mode_bits', 'bits': '4000', 'statoverride': True}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_WHY_ROOT, BOOK_TABLE], 'stig': []},
        'package_note': ('Debian ships /usr/sbin/sensible-mda set-user-id root (4755) so that procmail-style local '
                         'delivery can become the recipient; the baseline wants no set-user-id root program.'),
    },
    {
        'id': 'SM-SETGID-01',
        'title': 'The sendmail binary is root:smmsp and set-group-id',
        'family': 'privilege',
        'tags': ['setgid', 'binaries', 'msp'],
        'severity': 'medium',
        'rationale': (
            'The submission program needs the smmsp group, and only that, to write the client queue: the binary is '
            'root:smmsp with the set-group-id bit and writable by root alone. A set-user-id bit is reported by '
            'SM-SETUID-01, not here, so that one defect gives one finding.'),
        'check': 'lstat of the real file behind the sendmail binary (links and alternatives followed on purpose).',
        'evaluator': 'path_set',
        'params': {'targets': ['binary']},
        'needs': [],
        'expected': {'default': _path_spec(['root'], ['smmsp'], mode='2755', require='2000', ignore='4000')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root:smmsp and chmod 2755 the sendmail binary (on Debian through dpkg-statoverride, see SM-STATOVR-01).',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-STATOVR-01',
        'title': 'dpkg statoverrides pin the wanted owner and mode of the sendmail binaries',
        'family': 'privilege',
        'tags': ['statoverride', 'binaries', 'debian'],
        'severity': 'medium',
        'rationale': (
            'Debian sets the owner and mode of sendmail and mailstats through dpkg-statoverride, and every package '
            'upgrade applies them again: a fixed mode that disagrees with the override is undone by the next '
            'upgrade, and a set-user-id mode pinned there comes back.'),
        'check': 'The entries of ' + DEBIAN['statoverride'] + ' for the expected paths (owner group mode), and no entry on a '
                 'sendmail file with a set-user-id mode.',
        'evaluator': 'statoverride',
        'params': {},
        'needs': [],
        'expected': {'default': {'entries': {}}, 'Debian': {'entries': dict(DEBIAN['pinned'])}},
        'override': {'entries': _key('entries', 'path: "owner group mode" (paths absent from the host are skipped)')},
        'fix': 'For each binary: dpkg-statoverride --remove <path>, then dpkg-statoverride --update --add root smmsp 2755 <path>.',
        'fix_data': [{'kind': 'statoverride', 'entries': '{entries}'}],
        'applies': {'os_family': ['Debian']},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    # --- files ----------------------------------------------------------------
    {
        'id': 'SM-FILE-01',
        'title': 'The directories holding the configuration are root-owned and not writable by others',
        'family': 'files',
        'tags': ['permissions', 'config', 'directories'],
        'severity': 'high',
        'rationale': (
            'Whoever can write a directory on the path to sendmail.cf can replace the file, whatever its own mode: '
            'the configuration names the programs sendmail runs as root. Every directory from / to the configuration '
            'directory must belong to root and be writable by root alone.'),
        'check': 'lstat of every directory on the path to sendmail.cf, submit.cf and the .mc files (/, /etc, /etc/mail).',
        'evaluator': 'path_set',
        'params': {'targets': ['config_dirs']},
        'needs': [],
        'expected': {'default': _path_spec(['root'], mode='2755')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root each directory and chmod go-w it.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': (
            'Debian ships /etc/mail (and /etc/mail/m4, /etc/mail/smrsh) as smmta:smmsp 2755, owned by the MTA user. '
            'sendmail accepts a directory owned by its TrustedUser, but then a compromise of smmta (the user the '
            'daemon runs as once RunAsUser is set) could rewrite sendmail.cf and get root at the next restart. '
            'The baseline wants root, which also keeps working: nothing in sendmail writes to /etc/mail at run time.'),
    },
    {
        'id': 'SM-FILE-02',
        'title': 'sendmail.cf is root-owned and not writable by others',
        'family': 'files',
        'tags': ['permissions', 'config', 'mta'],
        'severity': 'high',
        'rationale': 'sendmail.cf names the delivery agents sendmail runs, as root; whoever writes it owns the host.',
        'check': 'lstat of the MTA configuration file named by sendmail -d0.10.',
        'evaluator': 'path_set',
        'params': {'targets': ['cf_mta']},
        'needs': [],
        'expected': {'default': _path_spec(['root'], mode='0644')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root and chmod 0644 (or 0640) sendmail.cf.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-FILE-03',
        'title': 'submit.cf is root-owned and not writable by others',
        'family': 'files',
        'tags': ['permissions', 'config', 'msp'],
        'severity': 'high',
        'rationale': 'submit.cf drives the set-group-id submission program every user runs.',
        'check': 'lstat of the MSP configuration file named by sendmail -d0.10.',
        'evaluator': 'path_set',
        'params': {'targets': ['cf_msp']},
        'needs': [],
        'expected': {'default': _path_spec(['root'], mode='0644')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root and chmod 0644 submit.cf.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-FILE-04',
        'title': 'The .mc sources are root-owned and not writable by others',
        'family': 'files',
        'tags': ['permissions', 'config', 'mc'],
        'severity': 'medium',
        'rationale': 'The .mc files become sendmail.cf and submit.cf at the next rebuild (make -C /etc/mail, sendmailconfig, a package upgrade).',
        'check': 'lstat of every *.mc file in the directory of sendmail.cf.',
        'evaluator': 'path_set',
        'params': {'targets': ['mc']},
        'needs': [],
        'expected': {'default': _path_spec(['root'], mode='0644')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root and chmod 0644 each .mc file.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-FILE-05',
        'title': 'The alias files are root-owned and not writable by others',
        'family': 'files',
        'tags': ['permissions', 'aliases'],
        'severity': 'high',
        'rationale': (
            'An alias can pipe mail into any program or append it to any file; the aliases file is read by '
            'newaliases as root. Whoever writes it runs commands as the default user or worse.'),
        'check': 'lstat of each file of the AliasFile option; a symbolic link (Debian: /etc/mail/aliases -> ../aliases) '
                 'is followed on purpose and both the link and its target are reported; the target is judged.',
        'evaluator': 'path_set',
        'params': {'targets': ['aliases'], 'follow_links': True},
        'needs': ['mta'],
        'expected': {'default': _path_spec(['root'], mode='0644')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root and chmod 0644 the alias file (the link target), then run newaliases.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': [STIG_ALIAS_OWNER, STIG_ALIAS_MODE]},
        'package_note': None,
    },
    {
        'id': 'SM-FILE-06',
        'title': 'The alias databases and map files are safe',
        'family': 'files',
        'tags': ['permissions', 'aliases', 'maps', 'access'],
        'severity': 'medium',
        'rationale': (
            'sendmail reads the alias database and the K-line maps (access.db decides relaying) without further '
            'checks: they must belong to root or the TrustedUser and not be writable by others. The access map '
            'lists the relay policy and stays unreadable by others.'),
        'check': 'lstat of the alias databases (AliasFile + .db) and of each file-based K-line map, its source and '
                 'its database (e.g. /etc/mail/access and access.db); absent databases are skipped.',
        'evaluator': 'map_files',
        'params': {},
        'needs': ['mta'],
        'expected': {'default': {'owner': ['root', '@TrustedUser'], 'mode': '0644', 'private': ['access'],
                                 'private_mode': '0640'}},
        'override': {'owner': PATH_OVERRIDE['owner'], 'mode': PATH_OVERRIDE['mode'],
                     'private': _key('list', 'names of the maps that others may not read'),
                     'private_mode': _key('mode', 'most permissive mode of those')},
        'fix': 'chown root (or the TrustedUser) and chmod go-w each file; chmod o-r the access map and its database.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': 'Debian builds aliases.db and access.db as smmta:smmsp 0640: smmta is its TrustedUser, so they pass.',
    },
    {
        'id': 'SM-FILE-07',
        'title': 'The help and statistics files are root-owned and not writable by others',
        'family': 'files',
        'tags': ['permissions', 'helpfile', 'statistics'],
        'severity': 'low',
        'rationale': (
            'The help file is sent to SMTP clients; the statistics file is written by the daemon. Others must not '
            'rewrite either. A statistics file may belong to the user that writes it: the RunAsUser of the MTA for '
            'its own, that of the submission program (smmsp) for the statistics submit.cf names.'),
        'check': 'lstat of the HelpFile and StatusFile of sendmail.cf and submit.cf (@RunAsUser: the RunAsUser of the file '
                 'that names it); an absent file passes.',
        'evaluator': 'path_set',
        'params': {'targets': ['help', 'status', 'status_msp'], 'owner_role': {'status_msp': 'msp'}},
        'needs': ['mta', 'msp'],
        'expected': {'default': _path_spec(['root', '@RunAsUser'], mode='0644', missing='pass')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root (a statistics file: the RunAsUser that writes it, when set) and chmod 0644 or stricter.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': ("Red Hat keeps the submission program's statistics in /var/spool/clientmqueue/sm-client.st, "
                         'smmsp:smmsp 0660: the smmsp group may rewrite them; 0640 keeps them smmsp\'s.'),
    },
    {
        'id': 'SM-CF-01',
        'title': 'sendmail.cf and submit.cf are what their .mc files build',
        'family': 'files',
        'tags': ['config', 'mc', 'handedit'],
        'severity': 'medium',
        'rationale': (
            'A line added to sendmail.cf by hand (a message-size limit, a ruleset of the site) lives only there: the next '
            'make -C /etc/mail, sendmailconfig or package upgrade rebuilds the .cf from its .mc and silently drops it, '
            'and a define added to the .mc but never built is not in force. The .mc should say everything the .cf does.'),
        'check': 'm4 builds each .mc (sendmail.mc, submit.mc next to the .cf) into memory, as make -C /etc/mail would; '
                 'the lines of that build and of the installed .cf are compared, comments and blank lines aside. Without '
                 'a .mc, m4 or sendmail\'s m4 files, nothing on the host rebuilds the .cf: not applicable.',
        'evaluator': 'cf_source',
        'params': {'configs': ['mta', 'msp']},
        'needs': ['mta', 'msp'],
        'expected': {'default': {}},
        'override': {},
        'fix': 'Carry each line the installed .cf has and the build lacks into the .mc (a define, or LOCAL_CONFIG / '
               'LOCAL_RULESETS), rebuild and compare again. The hardening keeps such lines: it edits the options it sets '
               'in place (sendmail_hardening_cf_source).',
        'fix_data': [{'kind': 'manual'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK + '§4.4'], 'stig': []},
        'package_note': None,
    },
    # --- queue ----------------------------------------------------------------
    {
        'id': 'SM-QUEUE-01',
        'title': 'The MTA queue belongs to root (or RunAsUser) with mode 0700',
        'family': 'queue',
        'tags': ['queue', 'mta', 'permissions'],
        'severity': 'high',
        'rationale': (
            'The queue holds every message waiting for delivery and the control files (qf) that say where it goes '
            'and as whom. Anyone who can read it reads others\' mail; anyone who can write it can make sendmail '
            'deliver to programs. The book and CERT recommend mode 0700, owned by root, or by RunAsUser when set.'),
        'check': 'lstat of the QueueDirectory of sendmail.cf.',
        'evaluator': 'path_set',
        'params': {'targets': ['queue_mta']},
        'needs': ['mta'],
        'expected': {'default': _path_spec(['@MTAUser'], mode='0700')},
        'override': PATH_OVERRIDE,
        'fix': 'chown the queue directory to the user the MTA runs as (RunAsUser when set, else root) and chmod it 0700.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': (
            'Debian ships /var/spool/mqueue as smmta:smmsp 2750: owned by the MTA user although no RunAsUser is '
            'set, and readable by the smmsp group (which the set-group-id submission program has, so any local '
            'user running it could reach the MTA queue). The baseline wants 0700, owned by root or by RunAsUser. Red Hat ships '
            'it root:mail 0700, which passes while the MTA runs as root; an update of the package gives it back to root once '
            'RunAsUser has made it the MTA user\'s.'),
    },
    {
        'id': 'SM-QUEUE-02',
        'title': 'The MSP client queue is smmsp:smmsp with mode 0770',
        'family': 'queue',
        'tags': ['queue', 'msp', 'permissions'],
        'severity': 'high',
        'rationale': (
            'The client queue is written by the set-group-id submission program on behalf of every user: it must '
            'belong to smmsp, be writable by the smmsp group and by nobody else.'),
        'check': 'lstat of the QueueDirectory of submit.cf (the set-group-id bit is allowed).',
        'evaluator': 'path_set',
        'params': {'targets': ['queue_msp']},
        'needs': ['msp'],
        'expected': {'default': _path_spec(['smmsp'], ['smmsp'], mode='2770', require='0770')},
        'override': PATH_OVERRIDE,
        'fix': 'chown smmsp:smmsp and chmod 0770 (2770 on Debian) the client queue.',
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-QUEUE-03',
        'title': 'The queues hold only queue files, none accessible to others',
        'family': 'queue',
        'tags': ['queue', 'permissions', 'queuefilemode'],
        'severity': 'medium',
        'rationale': (
            'Queue files hold messages and their envelopes; others must neither read nor write them. A queue holds only '
            'what sendmail writes: a symbolic or hard link planted there (the client queue is writable by the smmsp group) '
            'points a root process that fixes the queue, or sendmail itself, at another file such as /etc/shadow.'),
        'check': 'lstat of every entry of both queue directories and of their qf/df/xf subdirectories, links not followed: '
                 'the mode of each regular file (qf, df, tf, xf, Qf, hf and any other); a symbolic link (named with where it '
                 'points), a file with hard links outside the queues (sendmail links a df file only within them), and an '
                 'entry that is neither a regular file nor a queue subdirectory (a pipe, a device, another directory; '
                 'lost+found and a HostStatusDirectory inside the queue aside) fail; and the QueueFileMode option of '
                 'sendmail.cf and submit.cf.',
        'evaluator': 'queue_files',
        'params': {},
        'needs': ['mta', 'msp'],
        'expected': {'default': {'mode': '0770'}},
        'override': {'mode': _key('mode', 'most permissive mode of a queue file and of QueueFileMode')},
        'fix': "chmod o-rwx the queue files; set define(`confQUEUE_FILE_MODE', `0600') (0660 for the MSP) and rebuild. "
               'Links and entries that are not queue files are never followed nor changed by the hardening: check what '
               'each points at, then remove it by hand.',
        'fix_data': [{'kind': 'clear_mode_bits', 'bits': '0007', 'statoverride': False},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'QueueFileMode', 'define': 'confQUEUE_FILE_MODE',
                      'value': '0600'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': None,
    },
    # --- safety ---------------------------------------------------------------
    {
        'id': 'SM-SAFE-01',
        'title': 'DontBlameSendmail is safe',
        'family': 'safety',
        'tags': ['dontblamesendmail', 'filesafety'],
        'severity': 'high',
        'rationale': (
            "DontBlameSendmail switches off sendmail's own file-safety checks (group-writable alias and include "
            'files, unsafe directory paths, file giveaway); each word re-opens a hole those checks close. It should '
            'stay unset (safe); the fix for a refused file is to fix the file.'),
        'check': 'The DontBlameSendmail words of sendmail.cf and submit.cf (all lines; "safe" resets the list).',
        'evaluator': 'option_words',
        'params': {'option': 'DontBlameSendmail', 'configs': ['mta', 'msp']},
        'needs': ['mta', 'msp'],
        'expected': {'default': {'allowed': ['safe']}},
        'override': {'allowed': _key('list', 'words DontBlameSendmail may hold')},
        'fix': "Remove define(`confDONT_BLAME_SENDMAIL', ...) from sendmail.mc (or set it to `safe'), fix the files "
               'sendmail then refuses, rebuild sendmail.cf.',
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'DontBlameSendmail', 'define': 'confDONT_BLAME_SENDMAIL',
                      'value': 'safe'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_OPTIONS], 'stig': []},
        'package_note': ('Debian sets DontBlameSendmail to a long list of relaxations (AssumeSafeChown, '
                         'GroupWritableIncludeFileSafe, TrustStickyBit, ...) for compatibility with old setups; the '
                         'baseline wants safe.'),
    },
    {
        'id': 'SM-SAFE-02',
        'title': 'SafeFileEnvironment is set',
        'family': 'safety',
        'tags': ['safefileenvironment', 'filesafety'],
        'severity': 'medium',
        'rationale': (
            'With SafeFileEnvironment set, sendmail delivers to ordinary files only (never to devices or '
            'directories), and with a directory value only below it (a chroot for file delivery).'),
        'check': 'The SafeFileEnvironment option of sendmail.cf: set and not empty (equal to the expected value when one is given).',
        'evaluator': 'option_value',
        'params': {'option': 'SafeFileEnvironment', 'config': 'mta'},
        'needs': ['mta'],
        'expected': {'default': {'value': None}},
        'override': {'value': _key('str', 'the wanted directory, or null for any non-empty value', nullable=True)},
        'fix': "Set define(`confSAFE_FILE_ENV', `/') (or a directory) in sendmail.mc and rebuild sendmail.cf.",
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'SafeFileEnvironment', 'define': 'confSAFE_FILE_ENV',
                      'value': '{value}',
                      'default': '/'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_SAFE_FILE_ENV], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-TLS-01',
        'title': 'The STARTTLS keys of the MTA are readable by the user it runs as, and by nobody else',
        'family': 'safety',
        'tags': ['tls', 'starttls', 'keys', 'permissions', 'mta'],
        'severity': 'high',
        'rationale': (
            'sendmail reads its private keys for STARTTLS as the user it runs as (RunAsUser when set, else root) and '
            'refuses a key that others can read unless DontBlameSendmail has GroupReadableKeyFile; a refused key '
            'turns STARTTLS off without a word and mail goes in the clear. Debian makes the key root:smmsp 0640 and '
            'relaxes DontBlameSendmail for it; with DontBlameSendmail safe, or with RunAsUser, that key is refused.'),
        'check': 'lstat of the ServerKeyFile and ClientKeyFile of sendmail.cf: owned by the user the MTA runs as '
                 '(RunAsUser when set, else root), mode 0600 or stricter; not applicable where the MTA names no key.',
        'evaluator': 'path_set',
        'params': {'targets': ['tls_keys'], 'none': 'the MTA names no STARTTLS key'},
        'needs': ['mta'],
        'expected': {'default': _path_spec(['@MTAUser'], mode='0600')},
        'override': PATH_OVERRIDE,
        'fix': 'chown each key to the user the MTA runs as (RunAsUser when set, else root) and chmod it 0600; a key '
               'outside the directory of sendmail.cf, which other programs may read too, is left to you (but the pair '
               "the OS family's package makes for sendmail alone, such as Red Hat's /etc/pki/tls/private/sendmail.key).",
        # A key elsewhere (/etc/ssl/private) may serve other programs as well: it is named, not changed.
        'fix_data': ({'kind': 'path_attributes', 'outside_config_dir': 'refuse'},),
        'applies': {'os_family': None},
        'references': {'book': [BOOK_TABLE], 'stig': []},
        'package_note': ("Debian's update_tls makes /etc/mail/tls/sendmail-common.key root:smmsp 0640 and its "
                         'starttls.m4 adds GroupReadableKeyFile to DontBlameSendmail.'),
    },
    # --- smtp -----------------------------------------------------------------
    {
        'id': 'SM-SMTP-01',
        'title': 'PrivacyOptions refuse SMTP probes and restrict the queue',
        'family': 'smtp',
        'tags': ['privacyoptions', 'vrfy', 'expn', 'etrn', 'probes', 'mta'],
        'severity': 'medium',
        'rationale': (
            'VRFY and EXPN tell any client which users exist and where lists expand to; ETRN and VERB let it '
            'start queue runs and watch deliveries; mailq and sendmail -q let any local user read and run the queue. '
            'goaway alone is not enough: it leaves out noetrn, restrictqrun, restrictmailq, restrictexpand, '
            'noreceipts and nobodyreturn, so ETRN is still accepted.'),
        'check': 'The PrivacyOptions words of sendmail.cf (all lines add up; goaway stands for needmailhelo, needexpnhelo, '
                 'needvrfyhelo, noexpn, novrfy, authwarnings, noverb and noreflection): every expected word is there.',
        'evaluator': 'option_words_required',
        'params': {'option': 'PrivacyOptions', 'config': 'mta', 'implied': {'goaway': list(GOAWAY_WORDS)}},
        'needs': ['mta'],
        'expected': {'default': {'required': list(PRIVACY_FULL)}},
        'override': {'required': _key('list', 'the words PrivacyOptions must hold (goaway counts as the words it stands for)')},
        'fix': "Set define(`confPRIVACY_FLAGS', `goaway,noetrn,restrictqrun,restrictmailq,restrictexpand,noreceipts,"
               "nobodyreturn') in sendmail.mc (the words the site has beyond them kept) and rebuild sendmail.cf.",
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'PrivacyOptions', 'define': 'confPRIVACY_FLAGS',
                      'value': None, 'derive': 'privacy_words'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_PROBES], 'stig': [
            'DISA STIG GEN004660: the SMTP service must not have the EXPN feature active',
            'DISA STIG GEN004680: the SMTP service must not have the VRFY feature active']},
        'package_note': ('Debian sets needmailhelo,needexpnhelo,needvrfyhelo,restrictqrun,restrictexpand,nobodyreturn,'
                         'authwarnings: VRFY and EXPN answer 250 and ETRN is accepted. Red Hat sets authwarnings,novrfy,noexpn,'
                         'restrictqrun.'),
    },
    {
        'id': 'SM-SMTP-02',
        'title': 'The SMTP greeting does not show the version',
        'family': 'smtp',
        'tags': ['greeting', 'banner', 'version', 'probes', 'mta'],
        'severity': 'low',
        'rationale': (
            'The 220 greeting goes to every client before it says a word. With the version ($v) and the '
            'configuration version ($Z) in it, a scan finds the hosts a known flaw applies to without trying it.'),
        'check': 'The SmtpGreetingMessage of sendmail.cf holds neither $v nor $Z (and equals the expected greeting when '
                 'one is given). sendmail puts "ESMTP" after the first word itself.',
        'evaluator': 'greeting',
        'params': {'option': 'SmtpGreetingMessage', 'config': 'mta', 'forbidden': list(VERSION_MACROS)},
        'needs': ['mta'],
        'expected': {'default': {'value': None}},
        'override': {'value': _key('str', 'the greeting to set, or null for the current one without $v and $Z', nullable=True)},
        'fix': "Set define(`confSMTP_LOGIN_MSG', ...) in sendmail.mc to the greeting without $v and $Z "
               "(`$j Sendmail; $b' where none is set) and rebuild sendmail.cf.",
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'SmtpGreetingMessage', 'define': 'confSMTP_LOGIN_MSG',
                      'value': '{value}', 'derive': 'greeting_without_version'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_PROBES], 'stig': [
            'DISA STIG GEN004560: the SMTP service login banner must not contain version information']},
        'package_note': 'Debian greets with "$j Sendmail $v/$Z; $b; ...": the version and the configuration version.',
    },
    {
        'id': 'SM-SMTP-03',
        'title': 'HELP does not show the version: the help file is empty',
        'family': 'smtp',
        'tags': ['helpfile', 'help', 'version', 'probes', 'mta'],
        'severity': 'low',
        'rationale': (
            'HELP sends the help file, whose first line is "This is sendmail version $v". Without a help file '
            'sendmail answers "502 5.3.0 Sendmail 8.17.1.9 -- HELP not implemented", which shows the version too: '
            'only an empty help file hides it (HELP then answers "214 2.0.0 End of HELP info").'),
        'check': 'The HelpFile of sendmail.cf names a regular file (lstat, links not followed) that is empty.',
        'evaluator': 'help_file',
        'params': {'option': 'HelpFile', 'config': 'mta'},
        'needs': ['mta'],
        'expected': {'default': {'path': EMPTY_HELP_FILE}},
        'override': {'path': _key('str', 'the empty help file the fix creates (root:root 0644) and names in HelpFile')},
        'fix': "Create an empty file (" + EMPTY_HELP_FILE + ", root:root 0644), set define(`HELP_FILE', ...) to it in "
               'sendmail.mc and rebuild sendmail.cf. The packaged help file stays as it is (a package upgrade would '
               'bring an emptied one back).',
        'fix_data': [{'kind': 'empty_file', 'path': '{path}'},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'HelpFile', 'define': 'HELP_FILE', 'value': '{path}'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_PROBES], 'stig': [
            'DISA STIG GEN004540: the SMTP service HELP command must not be enabled']},
        'package_note': 'Debian names /etc/mail/helpfile, a conffile of sendmail-bin whose first topic shows the version.',
    },
    {
        'id': 'SM-SMTP-04',
        'title': 'No SMTP debugging: sendmail is built without SMTPDEBUG',
        'family': 'smtp',
        'tags': ['debug', 'wiz', 'smtpdebug', 'probes', 'mta'],
        'severity': 'high',
        'rationale': (
            'Built with SMTPDEBUG, sendmail answers DEBUG (debug output for the client) and SHOWQ (the send queue) '
            'to anyone. WIZ was the classic back door: every build only logs it.'),
        'check': 'The "Compiled with:" list of sendmail -d0.10 has no SMTPDEBUG.',
        'evaluator': 'smtp_debugging',
        'params': {'option': 'SMTPDEBUG'},
        'needs': [],
        'expected': {'default': {}},
        'override': {},
        'fix': 'Install a sendmail built without SMTPDEBUG.',
        'fix_data': [{'kind': 'manual'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_PROBES], 'stig': [
            'DISA STIG GEN004620: the sendmail server must have the debug feature disabled',
            'DISA STIG GEN004700: the sendmail service must not have the wiz feature enabled']},
        'package_note': "Debian's sendmail is built without SMTPDEBUG: DEBUG and WIZ answer 500.",
    },
    # --- aliases --------------------------------------------------------------
    {
        'id': 'SM-ALIAS-01',
        'title': 'No decode or uudecode alias',
        'family': 'aliases',
        'tags': ['aliases', 'decode', 'programs'],
        'severity': 'high',
        'rationale': (
            'A decode alias pipes mail into uudecode, which writes the file named inside the message wherever the '
            'daemon may write: anyone who can send mail can plant a .rhosts or overwrite a file.'),
        'check': 'The alias files sendmail.cf names (AliasFile, links followed on purpose), read whole: no entry of the '
                 'expected names (sendmail compares alias names without case).',
        'evaluator': 'forbidden_aliases',
        'params': {},
        'needs': ['mta'],
        'expected': {'default': {'names': ['decode', 'uudecode']}},
        'override': {'names': _key('list', 'alias names that must not exist')},
        'fix': 'Comment the entry out in the alias file (a note above says why) and rebuild the alias database (newaliases).',
        'fix_data': [{'kind': 'alias_disable'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': [
            'DISA STIG GEN004640: the SMTP service must not have a uudecode alias active']},
        'package_note': None,
    },
    {
        'id': 'SM-ALIAS-02',
        'title': 'A postmaster alias exists',
        'family': 'aliases',
        'tags': ['aliases', 'postmaster'],
        'severity': 'low',
        'rationale': (
            'Every mail host must accept mail for postmaster (RFC 5321): bounces, complaints and the reports of other '
            "sites' administrators go there. Without an alias it reaches no one who reads it."),
        'check': 'The alias files sendmail.cf names: an entry for each expected name.',
        'evaluator': 'required_aliases',
        'params': {},
        'needs': ['mta'],
        'expected': {'default': {'names': ['postmaster'], 'target': 'root'}},
        'override': {'names': _key('list', 'alias names that must exist'),
                     'target': _key('str', 'where the fix points an alias it adds')},
        'fix': 'Add "postmaster: root" (the expected target) to the first alias file and rebuild the alias database.',
        'fix_data': [{'kind': 'alias_add'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': []},
        'package_note': 'The lab\'s Debian hosts have an empty /etc/aliases: no postmaster alias.',
    },
    {
        'id': 'SM-ALIAS-03',
        'title': 'Programs run from aliases are root-owned, in root-owned directories',
        'family': 'aliases',
        'tags': ['aliases', 'programs', 'permissions'],
        'severity': 'high',
        'rationale': (
            'A program an alias pipes mail into runs for every message sent to that alias. Whoever can rewrite the '
            'program, or the directory it is in, runs code on every such message.'),
        'check': 'lstat of each program (the first word of a "|program" entry with an absolute path; links followed on '
                 'purpose) and of each directory above it: root-owned, mode 0755 or stricter (set-group-id not judged); '
                 'an absent program passes (nothing to run).',
        'evaluator': 'path_set',
        'params': {'targets': ['alias_program_dirs', 'alias_programs'], 'follow_links': True},
        'needs': ['mta'],
        'expected': {'default': _path_spec(['root'], mode='0755', ignore='2000', missing='pass')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root and chmod go-w each such program and each directory above it; a directory another user owns '
               '(a home) is not given to root: move the program out of it.',
        'fix_data': [{'kind': 'path_attributes', 'others_dirs': 'refuse'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': [
            'DISA STIG GEN004400: files executed through a mail aliases file must be owned by root',
            'DISA STIG GEN004420: files executed through a mail aliases file must be in root-owned directories',
            'DISA STIG GEN004430: files executed through a mail aliases file must have mode 0755 or less permissive']},
        'package_note': None,
    },
    {
        'id': 'SM-FWD-01',
        'title': 'ForwardPath follows the site policy',
        'family': 'aliases',
        'tags': ['forwardpath', 'forward', 'aliases'],
        'severity': 'medium',
        'rationale': (
            'Every file ForwardPath names lets a user send their mail on to an address, a file or a program, out of '
            "the administrator's sight; the STIG wants none. Users who forward or pipe their mail need one, so the "
            'policy is the site\'s: keep, restrict (only the allowed entries, $z/.forward by default) or empty.'),
        'check': 'The ForwardPath of sendmail.cf (unset is sendmail\'s built-in $z/.forward) against the policy; the '
                 'files users have on each entry (lstat in every home of the passwd database) are listed.',
        'evaluator': 'forward_path',
        'params': {'option': 'ForwardPath', 'config': 'mta'},
        'needs': ['mta'],
        'expected': {'default': {'policy': 'restrict', 'allowed': [DEFAULT_FORWARD_PATH]}},
        'override': {'policy': _key('choice', 'keep, restrict (to allowed) or empty', choices=FORWARD_POLICIES),
                     'allowed': _key('list', 'the ForwardPath entries restrict keeps')},
        'fix': "Set define(`confFORWARD_PATH', ...) in sendmail.mc to the allowed entries (restrict) or to nothing (empty) "
               'and rebuild sendmail.cf; where a user has a file on an entry that would go, ForwardPath is left as it is '
               'and the files are named.',
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'ForwardPath', 'define': 'confFORWARD_PATH',
                      'value': None, 'derive': 'forward_path', 'empty_ok': True, 'gate': 'forward_files'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': [
            'DISA STIG GEN004580: the system must not use .forward files (policy empty)']},
        'package_note': 'Debian sets $z/.forward.$w:$z/.forward: a per-host file first.',
    },
    # --- programs -------------------------------------------------------------
    {
        'id': 'SM-PROG-01',
        'title': 'The prog mailer is smrsh',
        'family': 'programs',
        'tags': ['smrsh', 'prog', 'programs', 'mta'],
        'severity': 'high',
        'rationale': (
            'With /bin/sh as the prog mailer, a "|command" in an alias, a .forward or an :include: list is any shell '
            'command at all: whoever can write one of those files runs what they like, as the recipient. smrsh runs '
            'only the programs its directory holds, without shell syntax.'),
        'check': 'The P= of the prog mailer (Mprog) of sendmail.cf: smrsh. A host without a prog mailer passes.',
        'evaluator': 'prog_mailer',
        'params': {'config': 'mta', 'mailer': 'prog', 'shell': 'smrsh'},
        'needs': ['mta'],
        'expected': {'default': {}},
        'override': {},
        'fix': "Add FEATURE(`smrsh') to sendmail.mc and rebuild sendmail.cf (where the .cf is edited in place, its Mprog "
               'line gets P= smrsh and A=smrsh -c $u there); first put a link in smrsh\'s directory to each program the '
               'aliases and .forward files run (the hardening leaves the prog mailer as it is, naming them, where one is '
               'missing).',
        'fix_data': [{'kind': 'mc_feature_add', 'config': 'mta', 'feature': 'smrsh',
                      'in_place': {'mailer': 'prog', 'paths': list(SMRSH_PROGRAMS), 'argv': 'smrsh -c $u'}}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': []},
        'package_note': "Debian's sendmail.mc has no FEATURE(`smrsh'): its prog mailer is /bin/sh. Red Hat's has it.",
    },
    {
        'id': 'SM-PROG-02',
        'title': "smrsh's directory is root-owned and not writable by others",
        'family': 'programs',
        'tags': ['smrsh', 'programs', 'permissions'],
        'severity': 'high',
        'rationale': (
            "smrsh runs whatever its directory holds: whoever can add a link there chooses the programs mail may run."),
        'check': "lstat of smrsh's directory (" + ', '.join(SMRSH_DIRS) + ', the first that exists) and of each directory '
                 'above it: root-owned, mode 0755 or stricter (set-group-id not judged); no such directory passes.',
        'evaluator': 'path_set',
        'params': {'targets': ['smrsh_dirs']},
        'needs': [],
        'expected': {'default': _path_spec(['root'], mode='0755', ignore='2000', missing='pass')},
        'override': PATH_OVERRIDE,
        'fix': "chown root and chmod go-w smrsh's directory.",
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': []},
        'package_note': 'Debian ships /etc/mail/smrsh as smmta:smmsp 2755: owned by the MTA user; Red Hat ships /etc/smrsh root:root 0755.',
    },
    {
        'id': 'SM-PROG-03',
        'title': "smrsh's directory holds no shell or interpreter",
        'family': 'programs',
        'tags': ['smrsh', 'programs', 'interpreters'],
        'severity': 'high',
        'rationale': (
            "A shell, an interpreter or a program that runs others (env, xargs, find) in smrsh's directory gives back "
            'everything smrsh takes away: "|sh -c ..." runs any command again.'),
        'check': "The names in smrsh's directory and, for links, the name of what they point at (a trailing version such "
                 'as python3.11 counts as python3): none of ' + ', '.join(INTERPRETERS) + '.',
        'evaluator': 'smrsh_programs',
        'params': {'interpreters': list(INTERPRETERS)},
        'needs': [],
        'expected': {'default': {'allowed': []}},
        'override': {'allowed': _key('list', 'names of the list the site keeps in smrsh\'s directory on purpose')},
        'fix': "Remove each such entry from smrsh's directory; one that an alias or a .forward runs is left, and named.",
        'fix_data': [{'kind': 'smrsh_remove'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': []},
        'package_note': None,
    },
    # --- logging --------------------------------------------------------------
    {
        'id': 'SM-LOG-01',
        'title': 'LogLevel is 9 or higher',
        'family': 'logging',
        'tags': ['loglevel', 'logging', 'mta'],
        'severity': 'medium',
        'rationale': (
            'Below 9 sendmail stops logging what an investigation needs: refused connections, message ids with their '
            'senders and recipients, and the deliveries of each message.'),
        'check': "The LogLevel of sendmail.cf is a number at least the expected one (unset: sendmail's default, %d)."
                 % NUMBER_DEFAULTS['LogLevel'],
        'evaluator': 'option_number',
        'params': {'option': 'LogLevel', 'config': 'mta', 'bound': 'min'},
        'needs': ['mta'],
        'expected': {'default': {'value': '9'}},
        'override': {'value': _key('str', 'the lowest LogLevel allowed, a number; the fix sets it')},
        'fix': "Set define(`confLOG_LEVEL', `9') in sendmail.mc and rebuild sendmail.cf.",
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'LogLevel', 'define': 'confLOG_LEVEL',
                      'value': '{value}', 'bound': 'min'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': [
            'DISA STIG GEN004440: the sendmail logging level must be at least 9']},
        'package_note': None,
    },
    {
        'id': 'SM-LOG-02',
        'title': 'Mail is logged, to files only root can write',
        'family': 'logging',
        'tags': ['logging', 'syslog', 'permissions'],
        'severity': 'medium',
        'rationale': (
            "sendmail logs through syslog's mail facility. Without a rule for it nothing is kept; a log file others "
            'can write can be rewritten to hide what happened.'),
        'check': 'The rules of ' + ', '.join(SYSLOG_CONFIGS) + ': one sends the mail facility to a file; lstat of each such '
                 'file: owned by root (or syslog, as Ubuntu has them), mode 0644 or stricter. A host without any of these files has no syslog daemon of '
                 'its own (the journal keeps the log): not applicable.',
        'evaluator': 'mail_log',
        'params': {'targets': ['mail_logs']},
        'needs': [],
        'expected': {'default': _path_spec(['root', 'syslog'], mode='0644', missing='pass')},
        'override': PATH_OVERRIDE,
        'fix': 'chown root and chmod go-w each mail log file (a rule for the mail facility, where none is, by hand). '
               "Ubuntu's rsyslog runs as syslog and keeps its files: syslog is allowed too.",
        'fix_data': PATH_FIX,
        'applies': {'os_family': None},
        'references': {'book': [BOOK_ENVIRONMENT], 'stig': [
            'DISA STIG GEN004460: the system must log informational authentication data (mail logged)',
            'DISA STIG GEN004480: the SMTP service log file must be owned by root',
            'DISA STIG GEN004500: the SMTP service log file must have mode 0644 or less permissive']},
        'package_note': "Debian's rsyslog writes /var/log/mail.log root:adm 0640; the lab's hosts run no syslog daemon.",
    },
    # --- limits ---------------------------------------------------------------
    {
        'id': 'SM-DOS-01',
        'title': 'The daemon limits connections, message size, recipients and headers',
        'family': 'limits',
        'tags': ['limits', 'dos', 'mta'] + [option.lower() for option, *_rest in LIMITS],
        'severity': 'medium',
        'rationale': (
            'Without limits one client can open connections until the host runs out of processes, send messages that '
            'fill the queue file system, or address thousands of recipients at once. A limit already set is a site '
            'decision: it is judged against the bound, never lowered silently.'),
        'check': 'Each of ' + ', '.join(option for option, *_rest in LIMITS) + ' in sendmail.cf is a number above 0 '
                 '(0 means no limit, and so does unset but for MaxHeadersLength, %d then) and at most its bound.'
                 % NUMBER_DEFAULTS['MaxHeadersLength'],
        'evaluator': 'option_limits',
        'params': {'config': 'mta', 'limits': [[option, key] for option, key, *_rest in LIMITS]},
        'needs': ['mta'],
        'expected': {'default': {key: most for _option, key, _define, most, _what in LIMITS}},
        'override': {key: _key('str', 'the most %s allowed (%s); the fix sets it where no limit is set' % (what, option))
                     for option, key, _define, _most, what in LIMITS},
        'fix': 'Set each missing limit (' + ', '.join(define for _o, _k, define, _m, _w in LIMITS) + ') in sendmail.mc to '
               'its bound and rebuild sendmail.cf; a limit above its bound is left for the site to lower, or to raise '
               'the bound in expected.',
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': option, 'define': define, 'value': '{%s}' % key,
                      'bound': 'max'} for option, key, define, _most, _what in LIMITS],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_OPTIONS], 'stig': []},
        'package_note': 'Debian sets MaxDaemonChildren=0 (no limit) and ConnectionRateThrottle=15; the other three are unset.',
    },
    # --- relay ----------------------------------------------------------------
    {
        'id': 'SM-RELAY-01',
        'title': 'The MTA does not relay for everyone',
        'family': 'relay',
        'tags': ['relay', 'promiscuous_relay', 'relay_based_on_mx', 'mta'],
        'severity': 'high',
        'rationale': (
            "FEATURE(`promiscuous_relay') makes the host an open relay: anyone can send mail anywhere through it. "
            "FEATURE(`relay_based_on_MX') relays for every domain whose MX record names this host, which whoever owns "
            'a domain can set.'),
        'check': 'sendmail.cf as built: without promiscuous_relay its check_rcpt ends in "550 Relaying denied"; with '
                 'relay_based_on_MX it declares a bestmx map. A feature in the expected list is allowed.',
        'evaluator': 'relay_features',
        'params': {'config': 'mta', 'features': list(RELAY_FEATURES)},
        'needs': ['mta'],
        'expected': {'default': {'allowed': []}},
        'override': {'allowed': _key('list', 'relaying features this host may use: ' + ', '.join(RELAY_FEATURES))},
        'fix': "Remove FEATURE(`promiscuous_relay') and FEATURE(`relay_based_on_MX') from sendmail.mc and rebuild "
               'sendmail.cf; list the hosts and domains to relay for in /etc/mail/relay-domains or the access map.',
        'fix_data': [{'kind': 'mc_feature_remove', 'config': 'mta'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK + '§4.4'], 'stig': [
            'DISA STIG GEN004710: mail relaying must be restricted']},
        'package_note': None,
    },
    {
        'id': 'SM-RELAY-02',
        'title': 'A host that is not a relay listens on loopback only',
        'family': 'relay',
        'tags': ['relay', 'listen', 'daemonportoptions', 'mta'],
        'severity': 'high',
        'rationale': (
            'A host that only sends its own mail (an application server, a workstation) has no reason to take SMTP '
            'from other hosts: each daemon listening beyond loopback is a server others can probe, flood or try to '
            'relay through. ComplianceAsCode (has_nonlocal_mta) wants nothing on ports 25, 465 or 587 but loopback.'),
        'check': 'Only on a host declared not a relay (expected not_a_relay; the roles\' *_not_a_relay variables): every '
                 'DaemonPortOptions of sendmail.cf has a loopback Addr (127.0.0.0/8, ::1, localhost) or is a local socket; '
                 'without Addr a daemon listens on every address. Elsewhere the control does not apply.',
        'evaluator': 'loopback_listeners',
        'params': {'config': 'mta', 'option': 'DaemonPortOptions', 'msp': 'msp'},
        'needs': ['mta'],
        'expected': {'default': {'not_a_relay': False}},
        'override': {'not_a_relay': _key('bool', 'this host is not a relay: its MTA listens on loopback only')},
        'fix': 'Give each DAEMON_OPTIONS of sendmail.mc Addr=127.0.0.1 (::1 for inet6; the daemons m4 adds by default '
               "become DAEMON_OPTIONS, with FEATURE(`no_default_msa')) and rebuild sendmail.cf, or edit each "
               'DaemonPortOptions in place where the .cf is edited in place; left as it is, and said, where the MSP '
               'submits elsewhere than to loopback (it would lose its MTA).',
        'fix_data': [{'kind': 'cf_listen', 'config': 'mta'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK + '§4.3'], 'stig': [
            'DISA STIG GEN004710: mail relaying must be restricted (a host that is not a relay takes no SMTP from others)']},
        'package_note': 'Debian binds its MTA and MSA to 127.0.0.1 and its MSP submits there: a packaged host passes.',
    },
    # --- transit ----------------------------------------------------------------
    {
        'id': 'SM-TLS-02',
        'title': 'The STARTTLS certificates of the MTA are not writable by others',
        'family': 'transit',
        'tags': ['tls', 'starttls', 'certificates', 'permissions', 'mta'],
        'severity': 'medium',
        'rationale': (
            'Whoever can replace the certificate sendmail shows, or the CA certificates it trusts, can make it '
            'present another key or accept a forged client certificate. The certificates are public, the files '
            'holding them are not for others to write.'),
        'check': 'lstat of the ServerCertFile, ClientCertFile and CACertFile of sendmail.cf: owned by root or the user the '
                 'MTA runs as, mode 0644 or stricter; not applicable where the MTA names no certificate.',
        'evaluator': 'path_set',
        'params': {'targets': ['tls_certs'], 'none': 'the MTA names no certificate'},
        'needs': ['mta'],
        'expected': {'default': _path_spec(['root', '@MTAUser'], mode='0644')},
        'override': PATH_OVERRIDE,
        'fix': 'chown each certificate file to root and chmod it 0644 or stricter; a file outside the directory of '
               "sendmail.cf, which other programs may read too, is left to you (but the pair the OS family's package makes "
               'for sendmail alone).',
        'fix_data': ({'kind': 'path_attributes', 'outside_config_dir': 'refuse'},),
        'applies': {'os_family': None},
        'references': {'book': [BOOK_STARTTLS], 'stig': []},
        'package_note': "Debian's update_tls makes the certificates root:smmsp 0644; Red Hat's package makes its own at install.",
    },
    {
        'id': 'SM-TLS-03',
        'title': 'The MTA offers STARTTLS: it names a server certificate and key, and CA certificates, and they work',
        'family': 'transit',
        'tags': ['tls', 'starttls', 'certificates', 'mta'],
        'severity': 'medium',
        'rationale': (
            'Without STARTTLS every message, and every password of SMTP AUTH, crosses the network in the clear. '
            'sendmail offers STARTTLS only where ServerCertFile and ServerKeyFile name a certificate and key it '
            'accepts and CACertFile and CACertPath name CA certificates that exist (tls.h, TLS_I_SRV_CERT): a key it '
            'refuses (readable by others without GroupReadableKeyFile in DontBlameSendmail) turns STARTTLS off '
            'without a word. The hardening never invents trust: it names a certificate and key only '
            'where they are given.'),
        'check': 'The ServerCertFile, ServerKeyFile, CACertFile and CACertPath of sendmail.cf: set and existing, the first '
                 'two equal to the expected paths when they are given; and where the daemon runs what sendmail.cf says, '
                 'its EHLO over the wire offers STARTTLS. '
                 'Not applicable where sendmail is built without STARTTLS.',
        'evaluator': 'starttls',
        'params': {'config': 'mta', 'options': ['ServerCertFile', 'ServerKeyFile', 'CACertFile', 'CACertPath']},
        'needs': ['mta'],
        'expected': {'default': {'cert': None, 'key': None, 'self_signed': False}},
        # Asked for a self-signed pair without naming either file: the pair goes where the platform layer says.
        'expected_when': {'self_signed': dict(SELF_SIGNED)},
        'override': {'cert': _key('str', 'the server certificate (PEM) the fix names in ServerCertFile, or null', nullable=True),
                     'key': _key('str', 'its private key (PEM) the fix names in ServerKeyFile, or null', nullable=True),
                     'self_signed': _key('bool', 'where neither cert nor key exists, the fix makes a self-signed pair there')},
        'fix': "With a certificate and key given (sendmail_hardening_tls_cert_file and sendmail_hardening_tls_key_file): set "
               "define(`confSERVER_CERT', ...) and define(`confSERVER_KEY', ...) in sendmail.mc to them, "
               "define(`confCACERT', ...) and define(`confCACERT_PATH', ...) where unset to the certificate and its directory "
               '(sendmail needs them to offer STARTTLS), and rebuild sendmail.cf (the key owned by the user the MTA runs as, '
               'mode 0600: SM-TLS-01). Without: get a certificate '
               "for the host's name and name it and its key so (Debian: /usr/share/sendmail/update_tls makes a self-signed one). "
               'Asked for a self-signed pair (sendmail_hardening_tls_self_signed), the hardening makes one with openssl '
               'where neither file is there, in a directory only root writes to (the key the MTA user\'s, 0600), and names it '
               'so; on a host without openssl it changes nothing and says so, once.',
        'fix_data': [{'kind': 'self_signed', 'cert': '{cert}', 'key': '{key}', 'when': '{self_signed}'},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'ServerCertFile', 'define': 'confSERVER_CERT',
                      'value': '{cert}', 'unset': 'cert', 'must_exist': True},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'ServerKeyFile', 'define': 'confSERVER_KEY',
                      'value': '{key}', 'unset': 'key', 'must_exist': True},
                     # sendmail offers STARTTLS only with CA certificates named too: the site's where set, else the
                     # certificate given (self-signed, or the end of its chain) and its directory.
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'CACertFile', 'define': 'confCACERT',
                      'value': None, 'derive': 'ca_file', 'unset': 'cert'},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'CACertPath', 'define': 'confCACERT_PATH',
                      'value': None, 'derive': 'ca_path', 'unset': 'cert'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_STARTTLS], 'stig': []},
        'package_note': ("Debian configures no STARTTLS until sendmailconfig or update_tls is run (it then makes a "
                         'self-signed certificate in /etc/mail/tls); Red Hat makes one at install.'),
    },
    {
        'id': 'SM-TLS-04',
        'title': 'The STARTTLS certificates do not expire soon',
        'family': 'transit',
        'tags': ['tls', 'starttls', 'certificates', 'expiry', 'mta'],
        'severity': 'medium',
        'rationale': (
            'Clients that verify certificates refuse an expired one, and most fall back to plain text or give up; a '
            'certificate about to expire is a failure on a known date.'),
        'check': 'The notAfter of the first certificate in the ServerCertFile and ClientCertFile of sendmail.cf, and of the '
                 'one the daemon shows over the wire: more than the expected number of days away. Not applicable where the '
                 'MTA names no certificate.',
        'evaluator': 'certificate_expiry',
        'params': {'config': 'mta'},
        'needs': ['mta'],
        'expected': {'default': {'days': 30}},
        'override': {'days': _key('int', 'a certificate expiring within this many days fails')},
        'fix': 'Renew the certificate (and name the new one in ServerCertFile), then restart sendmail.',
        'fix_data': [{'kind': 'manual'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_STARTTLS], 'stig': []},
        'package_note': None,
    },
    {
        'id': 'SM-TLS-05',
        'title': 'STARTTLS refuses SSL 3, TLS 1.0 and TLS 1.1, and weak ciphers',
        'family': 'transit',
        'tags': ['tls', 'starttls', 'protocols', 'ciphers', 'mta'],
        'severity': 'medium',
        'rationale': (
            'SSL 3, TLS 1.0 and TLS 1.1 are broken or deprecated (RFC 8996), and null, export, anonymous, RC4 and 3DES '
            'suites give no protection worth the name. sendmail has no minimum-version option: its floor is the '
            'SSL_OP_NO_* words of ServerSSLOptions (as server) and ClientSSLOptions (as client), and CipherList for the '
            'suites; left unset, the floor is whatever the OpenSSL policy of the day is, and a CipherList with '
            '@SECLEVEL=0 takes it away.'),
        'check': 'ServerSSLOptions and ClientSSLOptions of sendmail.cf, read as sendmail applies them (in order, - clears): '
                 'SSL_OP_NO_SSLv3, SSL_OP_NO_TLSv1 and SSL_OP_NO_TLSv1_1 set; CipherList unset or bringing in no null, '
                 'export, anonymous, RC4, 3DES or MD5 suite and no @SECLEVEL=0; and where the daemon runs what sendmail.cf '
                 'says, no TLS 1.0 or 1.1 handshake succeeds over the wire. Not applicable where sendmail is built without STARTTLS.',
        'evaluator': 'tls_floor',
        'params': {'config': 'mta', 'options': ['ServerSSLOptions', 'ClientSSLOptions'], 'ciphers': 'CipherList',
                   'refused': ['TLS 1.0', 'TLS 1.1']},
        'needs': ['mta'],
        'expected': {'default': {'cipher_list': STRONG_CIPHERS}},
        'override': {'cipher_list': _key('str', 'the CipherList the fix sets where the one in force lets weak suites in')},
        'fix': "Add +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1 to define(`confSERVER_SSL_OPTIONS', ...) and "
               "define(`confCLIENT_SSL_OPTIONS', ...) in sendmail.mc (the words that clear them dropped, the others kept), "
               "set define(`confCIPHER_LIST', `%s') where the list in force lets weak suites in, rebuild sendmail.cf and "
               'restart sendmail.' % STRONG_CIPHERS,
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'ServerSSLOptions', 'define': 'confSERVER_SSL_OPTIONS',
                      'value': None, 'derive': 'ssl_floor'},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'ClientSSLOptions', 'define': 'confCLIENT_SSL_OPTIONS',
                      'value': None, 'derive': 'ssl_floor'},
                     {'kind': 'cf_option', 'config': 'mta', 'option': 'CipherList', 'define': 'confCIPHER_LIST',
                      'value': None, 'derive': 'cipher_list'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_STARTTLS], 'stig': []},
        'package_note': ("Debian sets none of these options: on bookworm, OpenSSL's own policy (security level 2) refuses "
                         'TLS 1.0 and 1.1 until a CipherList lowers it.'),
    },
    {
        'id': 'SM-TLS-06',
        'title': 'No plaintext AUTH mechanism is offered before STARTTLS',
        'family': 'transit',
        'tags': ['auth', 'sasl', 'starttls', 'mta'],
        'severity': 'high',
        'rationale': (
            'PLAIN and LOGIN send the password as it is; offered before STARTTLS, a client may send it in the clear '
            'and anyone on the path reads it. AuthOptions p keeps them back until a security layer (STARTTLS) is '
            'active; after STARTTLS they are offered as before.'),
        'check': 'Where AuthMechanisms of sendmail.cf names PLAIN or LOGIN, or the daemon offers one before STARTTLS: '
                 'AuthOptions holds p, and where the daemon runs what sendmail.cf says, its EHLO before STARTTLS offers '
                 'neither. Not applicable where no plaintext mechanism is configured.',
        'evaluator': 'auth_plaintext',
        'params': {'config': 'mta', 'mechanisms': 'AuthMechanisms', 'option': 'AuthOptions', 'letter': 'p'},
        'needs': ['mta'],
        'expected': {'default': {}},
        'override': {},
        'fix': "Add p to define(`confAUTH_OPTIONS', ...) in sendmail.mc (the letters there kept), rebuild sendmail.cf "
               'and restart sendmail.',
        'fix_data': [{'kind': 'cf_option', 'config': 'mta', 'option': 'AuthOptions', 'define': 'confAUTH_OPTIONS',
                      'value': None, 'derive': 'auth_options'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_AUTH], 'stig': []},
        'package_note': "Debian's update_auth (sasl.m4) offers the mechanisms it is given and sets no AuthOptions.",
    },
    # --- privdrop -------------------------------------------------------------
    {
        'id': 'SM-PRIVDROP-01',
        'title': 'The kernel supports the compiled privilege-drop method',
        'family': 'privdrop',
        'tags': ['privdrop', 'kernel', 'seteuid', 'setreuid'],
        'severity': 'high',
        'rationale': (
            'sendmail changes user ids with the method chosen at compile time (seteuid, else setreuid, else setuid). '
            'If the running kernel (a container, a seccomp policy, an unusual platform) does not behave as that method '
            'needs, sendmail may keep root where it meant to give it up, or fail to get it back.'),
        'check': "The drop method from sendmail -d0.10 (OS Defines) and a replay of sendmail's test/t_seteuid.c and "
                 'test/t_setreuid.c in a throw-away child process (needs root).',
        'evaluator': 'privdrop',
        'params': {},
        'needs': [],
        'expected': {'default': {}},
        'override': {},
        'fix': 'Run sendmail on a kernel that passes the test of its method, or use a build whose method the kernel supports.',
        'fix_data': [{'kind': 'manual'}],
        'applies': {'os_family': None},
        'references': {'book': [BOOK_DROP], 'stig': []},
        'package_note': None,
    },
)

# What the fix of a control needs of another control's fix for mail to keep working; the audit judges each
# control alone, the hardening reads this. Control id -> a list of requirements: ``id`` the control
# whose fix is needed (judged on a path specification, fixed by path steps), ``keys`` the parts of its
# expected specification the first fix relies on, ``why`` what is said ({path}: the paths; {owner},
# {group}: the first allowed owner and group). The need arises where, on the host as the plan leaves
# it, a path the needed control reads lacks those keys and the plan made it so: its steps change that
# path, or the path had them before. The hardening then takes the needed fix too, or, where the user
# left that control out (excluded, switched off, waived), holds back the steps that need it.
REQUIRES = {
    # The submission program writes the client queue through its set-group-id group once it is no longer root.
    'SM-SETUID-01': [{'id': 'SM-SETGID-01', 'keys': ['group', 'require'],
                      'why': 'dropping the set-user-id bit of {path} needs its set-group-id {group} for mail submission'}],
    # The daemon can no longer become root to reach its queue; the files queued in it are SM-RUNAS-01's own
    # (its check reads them, its fix hands them over).
    'SM-RUNAS-01': [{'id': 'SM-QUEUE-01', 'keys': ['owner'],
                     'why': 'the MTA runs as {owner} once RunAsUser is set, and must own its queue {path}'},
                    # sendmail reads its STARTTLS key as the RunAsUser: a key it cannot read turns STARTTLS off.
                    {'id': 'SM-TLS-01', 'keys': ['owner'],
                     'why': 'the MTA reads its STARTTLS key {path} as {owner} once RunAsUser is set'}],
    # DontBlameSendmail=safe takes GroupReadableKeyFile away: a key others can read is refused from then on,
    # whatever it was before (always), and STARTTLS goes off without a word.
    'SM-SAFE-01': [{'id': 'SM-TLS-01', 'keys': ['mode'], 'always': True,
                    'why': 'with DontBlameSendmail safe sendmail refuses the STARTTLS key {path} unless only its owner can read it'}],
}

# --- values shared by the audit and the hardening ------------------------------------------------------


def number_in_force(option: str, value) -> int | None:
    """The number a numeric option holds: sendmail's default when unset, None when it is no number."""
    if value is None or str(value).strip() == '':
        return NUMBER_DEFAULTS.get(option, 0)
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def within_bound(bound: str, current: int, limit: int) -> bool:
    """``min``: at least ``limit``; ``max``: a limit (above 0, where 0 means none) of at most ``limit``."""
    if bound == 'min':
        return current >= limit
    return 0 < current <= limit


def privacy_covered(words, implied: dict) -> set:
    """The PrivacyOptions words in force, in lower case, with what goaway stands for."""
    have = {word.lower() for word in words or ()}
    for word, means in implied.items():
        if word in have:
            have.update(means)
    return have


def privacy_missing(words, required, implied: dict) -> list:
    """The required words ``words`` lacks; a word that stands for others is there when they all are."""
    have = privacy_covered(words, implied)
    return [word for word in required
            if word.lower() not in have and not (word in implied and set(implied[word]) <= have)]


def privacy_words(current, expected: dict, params: dict) -> str:
    """The PrivacyOptions value of the fix: the required words, then the site's own words they do not cover."""
    from_site = [word for word in current or () if word.lower() not in privacy_covered(expected['required'], params['implied'])]
    return ','.join(list(expected['required']) + from_site)


_VERSION_MACRO = re.compile(r'\$\{?[vZ]\}?(?:/\$\{?[vZ]\}?)*')


def greeting_without_version(current, expected: dict, params: dict) -> str:
    """The greeting of the fix: the expected one, else the current one without $v and $Z, else '$j Sendmail; $b'."""
    if expected.get('value'):
        return expected['value']
    if not current:
        return '$j Sendmail; $b'
    text = _VERSION_MACRO.sub('', current)
    text = re.sub(r'[ \t]+([;,])', r'\1', text)
    return re.sub(r'[ \t]{2,}', ' ', text).strip()


def greeting_leaks(value: str | None, forbidden) -> list:
    """The version macros a greeting holds (sendmail's own greeting when unset holds $v)."""
    if value is None:
        return ['$v']
    return [macro for macro in forbidden if re.search(r'\$\{?%s\}?' % re.escape(macro[1:]), value)]


def forward_entries(value: str | None) -> list:
    """The entries of a ForwardPath value: sendmail's built-in one when unset, none when empty."""
    text = DEFAULT_FORWARD_PATH if value is None else value
    return [item.strip() for item in text.split(':') if item.strip()]


def forward_path(current, expected: dict, params: dict) -> str | None:
    """The ForwardPath of the fix: the allowed entries the current one has (none: empty), empty, or None (keep)."""
    if expected['policy'] == 'empty':
        return ''
    if expected['policy'] == 'keep':
        return None
    # Never an entry the host did not read before: where none of its entries is allowed, none is left.
    return ':'.join(item for item in forward_entries(current) if item in expected['allowed'])


def forward_dropped(current, expected: dict) -> list:
    """The entries of the current ForwardPath the policy takes away."""
    if expected['policy'] == 'keep':
        return []
    if expected['policy'] == 'empty':
        return forward_entries(current)
    return [item for item in forward_entries(current) if item not in expected['allowed']]


def interpreter_name(name: str, interpreters) -> str | None:
    """The interpreter a program name is (python3.11 and perl5.36 count as python3 and perl), or None."""
    bare = re.sub(r'[0-9.]+$', '', name)
    for candidate in (name, re.sub(r'\.[0-9.]*$', '', name), bare):
        if candidate in interpreters:
            return candidate
    return None


# How a fix computes a value from what the option holds now (``derive`` of a cf_option action).
DERIVE = {'privacy_words': privacy_words, 'greeting_without_version': greeting_without_version, 'forward_path': forward_path}


BY_ID = {control['id']: control for control in CONTROLS}


def control_ids() -> list:
    """Every control id, in catalogue order."""
    return [control['id'] for control in CONTROLS]


def selectors() -> set:
    """Every word include/exclude accept: ids, families and tags."""
    words = set(BY_ID) | set(FAMILIES)
    for control in CONTROLS:
        words.update(control['tags'])
    return words


def matches(control: dict, selector: str) -> bool:
    """Whether a control id, family or tag names this control."""
    return selector in (control['id'], control['family']) or selector in control['tags']


def select(include=None, exclude=None) -> list:
    """The controls named by ``include`` (all when empty) minus those named by ``exclude``."""
    chosen = [c for c in CONTROLS if not include or any(matches(c, word) for word in include)]
    return [c for c in chosen if not any(matches(c, word) for word in exclude or ())]


def left_out(selected: list) -> list:
    """``id`` and ``title`` of the catalogue's controls a selection leaves out, in catalogue order: a report must say
    what it did not judge."""
    chosen = {control['id'] for control in selected}
    return [{'id': control['id'], 'title': control['title']} for control in CONTROLS if control['id'] not in chosen]


def unknown_selectors(words) -> list:
    """The words of ``words`` that name no control, family or tag."""
    known = selectors()
    return [word for word in words or () if word not in known]


def _mode_ok(value) -> bool:
    return isinstance(value, str) and len(value) <= 5 and value != '' and all(ch in '01234567' for ch in value)


def _value_ok(schema: dict, value) -> bool:
    """Whether ``value`` fits one key of an override schema."""
    if value is None:
        return schema['nullable']
    kind = schema['type']
    if kind == 'str':
        return isinstance(value, str)
    if kind == 'list':
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == 'mode':
        return _mode_ok(value)
    if kind == 'choice':
        return value in schema['choices']
    if kind == 'bool':
        return isinstance(value, bool)
    if kind == 'int':
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == 'entries':
        return isinstance(value, dict) and all(isinstance(v, str) and len(v.split()) == 3 for v in value.values())
    raise ValueError('unknown override type %s' % kind)


def describe_key(schema: dict) -> str:
    """What a value of one override key must be, in words: 'a list of strings or null'."""
    words = OVERRIDE_TYPES[schema['type']]
    if schema['type'] == 'choice':
        words = ', '.join(schema['choices'][:-1]) + ' or ' + schema['choices'][-1]
    return words + (' or null' if schema['nullable'] else '')


def override_errors(overrides: dict) -> list:
    """Why the ``expected`` option is wrong, one sentence per problem; empty when it is right."""
    errors = []
    for control_id, override in (overrides or {}).items():
        control = BY_ID.get(control_id)
        if control is None:
            errors.append('expected names %s, which is no control id' % control_id)
            continue
        schema = control['override']
        if not isinstance(override, dict):
            errors.append('expected.%s must be a dict of %s' % (control_id, ', '.join(sorted(schema)) or 'nothing'))
            continue
        for key, value in override.items():
            if key not in schema:
                errors.append('expected.%s has no key %s (known: %s)' % (control_id, key, ', '.join(sorted(schema)) or 'none'))
            elif not _value_ok(schema[key], value):
                errors.append('expected.%s.%s must be %s' % (control_id, key, describe_key(schema[key])))
    return errors


def expected_for(control: dict, os_family: str | None, override: dict | None = None) -> dict:
    """The expected value of a control on an OS family: its default, the family's keys, then ``override``; where a
    flag of ``expected_when`` is true and every key it fills is null, those keys take its values."""
    expected = copy.deepcopy(control['expected']['default'])
    expected.update(copy.deepcopy(control['expected'].get(os_family or '', {})))
    expected.update(copy.deepcopy(override or {}))
    for flag, values in (control.get('expected_when') or {}).items():
        if expected.get(flag) is True and all(expected.get(key) is None for key in values):
            expected.update(copy.deepcopy(values))
    return expected


def _fill(value, expected: dict):
    """A fix-data value with '{key}' placeholders taken from ``expected``."""
    if isinstance(value, str) and value.startswith('{') and value.endswith('}') and value[1:-1] in expected:
        return expected[value[1:-1]]
    if isinstance(value, str) and '{' in value:
        parts = {key: expected.get(key) for key in expected}
        if any(parts.get(key) is None for key in parts if '{%s}' % key in value):
            return None
        return value.format(**parts)
    return value


# The layout groups a fix changes when its check names none: those its evaluator reads.
EVALUATOR_TARGETS = {'map_files': ['maps'], 'setuid_files': ['setuid_root_files'], 'queue_files': ['queue_files']}


def fix_targets(control: dict) -> tuple:
    """(layout groups, follow links) of a control's path fixes: exactly what its check reads, as it reads it."""
    targets = control['params'].get('targets') or EVALUATOR_TARGETS.get(control['evaluator'], [])
    follow = bool(control['params'].get('follow_links')) or control['evaluator'] == 'map_files'
    return list(targets), follow


def fix_actions(control: dict, expected: dict) -> list:
    """The control's fix actions with the resolved expected values filled in (for the hardening role)."""
    actions = []
    for action in control['fix_data']:
        filled = {key: _fill(value, expected) for key, value in action.items()}
        if 'default' in filled:
            filled['value'] = filled['value'] if filled.get('value') is not None else filled['default']
            del filled['default']
        if filled['kind'] in ('path_attributes', 'clear_mode_bits'):
            filled['targets'], filled['follow'] = fix_targets(control)
        if filled['kind'] == 'path_attributes':
            filled['expected'] = copy.deepcopy(expected)
            filled['owner_role'] = dict(control['params'].get('owner_role') or {})
        actions.append(filled)
    return actions


def applies_to(control: dict, os_family: str | None) -> bool:
    """Whether the control applies on this OS family."""
    families = control['applies'].get('os_family')
    return families is None or os_family in families


def references(control: dict) -> list:
    """The control's references as plain strings: the book first, then the STIG."""
    return list(control['references']['book']) + list(control['references']['stig'])


def _names(values: list) -> str:
    words = ['the MTA user (RunAsUser, else root)' if value == '@MTAUser' else value.lstrip('@') for value in values]
    return ' or '.join(words) if words else 'nobody'


def describe_path_spec(spec: dict) -> str:
    """A path specification in words: 'owner root; mode 0644 or stricter'."""
    parts = ['owner %s' % _names(spec['owner'])]
    if spec.get('group') is not None:
        parts.append('group %s' % _names(spec['group']))
    parts.append('mode %s or stricter' % spec['mode'])
    if int(spec.get('require') or '0', 8):
        parts.append('bits %s set' % spec['require'])
    if int(spec.get('ignore') or '0', 8):
        parts.append('bits %s not judged here' % spec['ignore'])
    if spec.get('missing', 'fail') != 'fail':
        parts.append('absent: %s' % spec['missing'])
    return '; '.join(parts)


def describe_expected(control: dict, expected: dict) -> str:
    """The expected value of a control in words, for findings and the documentation."""
    kind = control['evaluator']
    if kind == 'run_as_user':
        if not expected.get('user'):
            return 'RunAsUser set to an existing user other than root'
        return 'RunAsUser=%s%s' % (expected['user'], ':%s' % expected['group'] if expected.get('group') else '')
    if kind == 'runas_impact':
        return 'no delivery that needs root (~/.forward, :include:, programs and files as their users, the local delivery agent)'
    if kind == 'trusted_user':
        return 'TrustedUser unset or one of: %s (an existing system user)' % ', '.join(expected['allowed'])
    if kind == 'setuid_files':
        allowed = expected.get('allowed') or []
        return 'no set-user-id root file' + (' except %s' % ', '.join(allowed) if allowed else '')
    if kind == 'statoverride':
        entries = expected.get('entries') or {}
        pinned = ['%s %s' % (entry, path) for path, entry in sorted(entries.items())]
        return '; '.join(pinned + ['no set-user-id mode pinned']) if pinned else 'no set-user-id mode pinned'
    if kind == 'path_set':
        return describe_path_spec(expected)
    if kind == 'map_files':
        return 'owner %s; mode %s or stricter (%s: %s or stricter)' % (
            _names(expected['owner']), expected['mode'], ', '.join(expected['private']) or 'none', expected['private_mode'])
    if kind == 'queue_files':
        return 'queue files and QueueFileMode %s or stricter (no access for others)' % expected['mode']
    if kind == 'option_words':
        return '%s unset or only: %s' % (control['params']['option'], ', '.join(expected['allowed']))
    if kind == 'option_value':
        option = control['params']['option']
        return '%s=%s' % (option, expected['value']) if expected.get('value') else '%s set, not empty' % option
    if kind == 'privdrop':
        return 'the kernel passes the test of the compiled drop method'
    if kind == 'cf_source':
        return 'each .cf has exactly the lines its .mc builds (comments and blank lines aside)'
    if kind == 'option_words_required':
        return '%s holds %s' % (control['params']['option'], ','.join(expected['required']))
    if kind == 'greeting':
        return '%s without %s' % (control['params']['option'], ' or '.join(control['params']['forbidden'])) + (
            ': %s' % expected['value'] if expected.get('value') else '')
    if kind == 'help_file':
        return 'HelpFile names an empty regular file (the fix: %s)' % expected['path']
    if kind == 'option_number':
        return '%s at least %s' % (control['params']['option'], expected['value'])
    if kind == 'option_limits':
        return '; '.join('%s 1 to %s' % (option, expected[key]) for option, key in control['params']['limits'])
    if kind == 'mail_log':
        return 'a syslog rule for the mail facility; its files: ' + describe_path_spec(expected)
    if kind == 'smrsh_programs':
        return "no shell or interpreter in smrsh's directory" + (' but %s' % ', '.join(expected['allowed']) if expected['allowed'] else '')
    if kind == 'smtp_debugging':
        return 'built without %s' % control['params']['option']
    if kind == 'prog_mailer':
        return 'the %s mailer is %s' % (control['params']['mailer'], control['params']['shell'])
    if kind == 'forward_path':
        if expected['policy'] == 'restrict':
            return 'ForwardPath only %s' % ':'.join(expected['allowed'])
        return 'ForwardPath empty' if expected['policy'] == 'empty' else 'ForwardPath as the site has it (policy keep)'
    if kind == 'forbidden_aliases':
        return 'no alias named %s' % ' or '.join(expected['names'])
    if kind == 'required_aliases':
        return 'an alias for %s' % ', '.join(expected['names'])
    if kind == 'relay_features':
        allowed = expected.get('allowed') or []
        return 'none of %s%s' % (', '.join(name for name in control['params']['features'] if name not in allowed),
                                 ' (allowed: %s)' % ', '.join(allowed) if allowed else '')
    if kind == 'loopback_listeners':
        if not expected.get('not_a_relay'):
            return 'applies only to a host declared not a relay (not_a_relay)'
        return 'every DaemonPortOptions on a loopback address'
    if kind == 'starttls':
        named = ', '.join('%s=%s' % pair for pair in (('ServerCertFile', expected.get('cert')), ('ServerKeyFile', expected.get('key')))
                          if pair[1])
        return 'STARTTLS offered: ServerCertFile and ServerKeyFile set to files that exist' + (' (%s)' % named if named else '')
    if kind == 'certificate_expiry':
        return 'each certificate valid for more than %d days' % expected['days']
    if kind == 'tls_floor':
        return ('%s with SSL_OP_NO_SSLv3, SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1; %s without weak suites; '
                'no %s handshake' % (' and '.join(control['params']['options']), control['params']['ciphers'],
                                     ' or '.join(control['params']['refused'])))
    if kind == 'auth_plaintext':
        return '%s holds %s where PLAIN or LOGIN is configured: neither offered before STARTTLS' % (
            control['params']['option'], control['params']['letter'])
    raise ValueError('unknown evaluator %s' % kind)
