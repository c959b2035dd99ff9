# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Pure parser for sendmail.cf and submit.cf."""

from __future__ import annotations

import re

# Single-letter option codes and their long names, as in sendmail's OptionTab
# (readcf.c). 'g' and 'M' have no long name there and stay as raw letters.
SHORT_OPTIONS = {
    '7': 'SevenBitInput', '8': 'EightBitMode', 'A': 'AliasFile', 'a': 'AliasWait',
    'B': 'BlankSub', 'b': 'MinFreeBlocks', 'C': 'CheckpointInterval', 'c': 'HoldExpensive',
    'd': 'DeliveryMode', 'E': 'ErrorHeader', 'e': 'ErrorMode', 'F': 'TempFileMode',
    'f': 'SaveFromLine', 'G': 'MatchGECOS', 'H': 'HelpFile', 'h': 'MaxHopCount',
    'I': 'ResolverOptions', 'i': 'IgnoreDots', 'J': 'ForwardPath', 'j': 'SendMimeErrors',
    'k': 'ConnectionCacheSize', 'K': 'ConnectionCacheTimeout', 'l': 'UseErrorsTo',
    'L': 'LogLevel', 'm': 'MeToo', 'n': 'CheckAliases', 'o': 'OldStyleHeaders',
    'O': 'DaemonPortOptions', 'p': 'PrivacyOptions', 'P': 'PostmasterCopy', 'q': 'QueueFactor',
    'Q': 'QueueDirectory', 'R': 'DontPruneRoutes', 'r': 'Timeout', 'S': 'StatusFile',
    's': 'SuperSafe', 'T': 'QueueTimeout', 't': 'TimeZoneSpec', 'U': 'UserDatabaseSpec',
    'u': 'DefaultUser', 'V': 'FallbackMXhost', 'v': 'Verbose', 'w': 'TryNullMXList',
    'x': 'QueueLA', 'X': 'RefuseLA', 'y': 'RecipientFactor', 'Y': 'ForkEachJob',
    'z': 'ClassFactor', 'Z': 'RetryFactor',
}

# Long names that matter for auditing; sendmail matches names case-insensitively,
# so these also give the canonical spelling.
KNOWN_LONG = tuple(SHORT_OPTIONS.values()) + (
    'RunAsUser', 'TrustedUser', 'SafeFileEnvironment', 'SmtpGreetingMessage', 'PidFile',
    'DontBlameSendmail', 'QueueFileMode', 'MaxDaemonChildren', 'ConnectionRateThrottle',
    'MaxMessageSize', 'MaxRecipientsPerMessage', 'MaxHeadersLength', 'UseMSP',
    'ControlSocketName', 'DeadLetterDrop', 'ClientPortOptions', 'HostStatusDirectory',
    'UnsafeGroupWrites', 'DoubleBounceAddress', 'ConnectionRateWindowSize', 'ServerKeyFile', 'ClientKeyFile',
    'ServerCertFile', 'ClientCertFile', 'CACertFile', 'CACertPath', 'AuthMechanisms', 'ServerSSLOptions', 'ClientSSLOptions',
    'CipherList', 'AuthOptions',
)
_CANONICAL = {name.lower(): name for name in KNOWN_LONG}

# Options whose words add up over all their lines.
WORD_LIST_OPTIONS = ('PrivacyOptions', 'DontBlameSendmail')
# Options where each line adds an entry instead of replacing the previous one.
REPEATED_OPTIONS = ('DaemonPortOptions', 'ClientPortOptions', 'AliasFile')

INTERESTING = (
    'RunAsUser', 'TrustedUser', 'DefaultUser', 'PrivacyOptions', 'DontBlameSendmail',
    'SafeFileEnvironment', 'QueueDirectory', 'StatusFile', 'HelpFile', 'ForwardPath',
    'LogLevel', 'SmtpGreetingMessage', 'DaemonPortOptions', 'QueueFileMode', 'TempFileMode',
    'PidFile', 'AliasFile', 'UseMSP', 'MaxDaemonChildren', 'ConnectionRateThrottle',
    'MaxMessageSize', 'MaxRecipientsPerMessage', 'MaxHeadersLength', 'ControlSocketName',
    'DeadLetterDrop', 'UnsafeGroupWrites', 'ServerKeyFile', 'ClientKeyFile', 'HostStatusDirectory',
    'ServerCertFile', 'ClientCertFile', 'CACertFile', 'CACertPath', 'AuthMechanisms', 'ServerSSLOptions', 'ClientSSLOptions',
    'CipherList', 'AuthOptions',
)

# The answer of check_rcpt (proto.m4) to a recipient it will not relay to.
RELAY_DENIED = 'Relaying denied'

_CLASS_NAME = re.compile(r'^(\{[^}]*\}|\S)')

# Map classes whose data lives in files named on the K line (or in AliasFile), with the
# suffixes sendmail adds to that name for the database files.
FILE_MAP_SUFFIXES = {
    'hash': ('.db',), 'btree': ('.db',), 'implicit': ('.db', '.dir', '.pag'), 'dbm': ('.dir', '.pag'),
    'ndbm': ('.dir', '.pag'), 'cdb': ('.cdb',), 'text': ('',),
}


def fold_lines(text: str) -> list:
    """Join continuation lines (leading blank) like sendmail's fgetfolded.

    Returns (first line number, logical line) pairs; the newline of a fold is kept.
    """
    logical = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line[:1] in (' ', '\t') and logical:
            first, previous = logical[-1]
            logical[-1] = (first, previous + '\n' + line)
        else:
            logical.append((number, line))
    return logical


def canonical_name(name: str) -> str:
    """Canonical spelling of a long option name, keeping a '.suboption' as written."""
    base, dot, sub = name.partition('.')
    return _CANONICAL.get(base.lower(), base) + dot + sub


def split_option(line: str):
    """Return (name, value) of an O line, or None when the line sets no option."""
    if not line.startswith('O') or len(line) < 2:
        return None
    if line[1] in (' ', '\t'):
        name, _eq, value = line[2:].partition('=')
        name = name.strip()
        if not name:
            return None
        return canonical_name(name), value.strip()
    return SHORT_OPTIONS.get(line[1], line[1]), line[2:].strip()


def _class_words(line: str):
    """Return (class name, words) of a C or T line, or None."""
    if line.startswith('T'):
        return 't', line[1:].split()
    match = _CLASS_NAME.match(line[1:])
    if not match:
        return None
    return match.group(1).strip('{}'), line[1 + match.end():].split()


def parse_cf(text: str) -> dict:
    """Parse a sendmail.cf text.

    Returns a dict with ``options`` (name -> last value, last wins as in
    sendmail), ``lines`` (name -> line number of that value), ``occurrences``
    (name -> every value in order), ``classes`` (C/T words), ``class_files``
    (F lines), ``version_level`` (the V line), ``maps`` (K lines, see parse_map) and ``mailers``
    (M lines, see parse_mailer), ``relay_denied`` (a rule answers "Relaying denied": check_rcpt refuses to relay)
    and ``macros`` (D lines: name -> last value).
    """
    result = {'options': {}, 'lines': {}, 'occurrences': {}, 'classes': {}, 'class_files': {}, 'version_level': None, 'maps': {},
              'mailers': {}, 'relay_denied': False, 'macros': {}}
    for number, line in fold_lines(text):
        kind = line[:1]
        if kind == 'M':
            mailer = parse_mailer(line)
            if mailer:
                result['mailers'][mailer['name']] = dict(mailer, line=number)
        elif kind == 'K':
            declared = parse_map(line)
            if declared:
                declared['line'] = number
                result['maps'][declared['name']] = declared
        elif kind == 'O':
            option = split_option(line)
            if option:
                name, value = option
                result['options'][name] = value
                result['lines'][name] = number
                result['occurrences'].setdefault(name, []).append(value)
        elif kind in ('C', 'T'):
            words = _class_words(line)
            if words:
                result['classes'].setdefault(words[0], []).extend(words[1])
        elif kind == 'F':
            match = _CLASS_NAME.match(line[1:])
            if match:
                result['class_files'][match.group(1).strip('{}')] = line[1 + match.end():].strip()
        elif kind == 'V':
            result['version_level'] = line[1:].strip()
        elif kind == 'D':
            match = _CLASS_NAME.match(line[1:])
            if match:
                result['macros'][match.group(1).strip('{}')] = line[1 + match.end():].strip()
        elif kind == 'R' and RELAY_DENIED in line:
            result['relay_denied'] = True
    return result


def relay_marks(parsed: dict) -> dict:
    """Which relaying features a .cf was built with, by the marks they leave: promiscuous_relay drops the
    rules of check_rcpt that end in "Relaying denied"; relay_based_on_MX declares the bestmx map mxserved
    (bestmx_is_local and badmx declare bestmx maps of other names)."""
    mxserved = (parsed.get('maps') or {}).get('mxserved') or {}
    return {'promiscuous_relay': not parsed.get('relay_denied'), 'relay_based_on_MX': mxserved.get('class') == 'bestmx'}


def word_list(values: list, reset_word: str | None = None) -> list | None:
    """Words of a PrivacyOptions-style option over all its lines, None when unset.

    sendmail adds the words of every line (commas or blanks separate them);
    ``reset_word`` clears what came before it ('safe' for DontBlameSendmail).
    """
    if not values:
        return None
    words = []
    for value in values:
        for word in re.split(r'[\s,]+', value):
            if reset_word and word.lower() == reset_word:
                words = []
            elif word:
                words.append(word)
    return words


def port_items(value: str) -> list:
    """(key, setting) of each item of a DaemonPortOptions value, keys as written, in order; setting None
    for an item without '=' (sendmail skips it)."""
    found = []
    for item in (value or '').split(','):
        key, equals, setting = item.partition('=')
        if key.strip():
            found.append((key.strip(), setting.strip() if equals else None))
    return found


def port_options(value: str) -> dict:
    """A DaemonPortOptions value as a dict of its key=value pairs, keys as written."""
    return {key: setting or '' for key, setting in port_items(value)}


def settings(parsed: dict) -> dict:
    """The audited settings of a parsed config; None where the option is unset."""
    found = {}
    for name in INTERESTING:
        if name in WORD_LIST_OPTIONS:
            reset = 'safe' if name == 'DontBlameSendmail' else None
            found[name] = word_list(parsed['occurrences'].get(name, []), reset)
        elif name == 'DaemonPortOptions':
            found[name] = [port_options(value) for value in parsed['occurrences'].get(name, [])]
        elif name in REPEATED_OPTIONS:
            found[name] = list(parsed['occurrences'].get(name, []))
        else:
            found[name] = parsed['options'].get(name)
    found['trusted_users'] = list(parsed['classes'].get('t', []))
    found['trusted_users_file'] = parsed['class_files'].get('t')
    found['version_level'] = parsed['version_level']
    found['relay_marks'] = relay_marks(parsed)
    found['MTAHost'] = parsed['macros'].get('MTAHost')  # where an MSP (submit.cf) relays its mail
    return found


def _file_argument(words: list):
    """(flags, file) of map arguments: flags start with '-'; the first other word is the file."""
    flags = [word for word in words if word.startswith('-')]
    rest = [word for word in words if not word.startswith('-')]
    return flags, (rest[0] if rest else None)


def data_files(map_class: str, path: str | None) -> list:
    """The database files sendmail opens for a file-based map (the text file itself for 'text')."""
    if not path or map_class not in FILE_MAP_SUFFIXES:
        return []
    suffixes = FILE_MAP_SUFFIXES[map_class]
    if map_class in ('hash', 'btree') and path.endswith('.db'):
        return [path]
    return [path + suffix for suffix in suffixes]


def parse_map(line: str) -> dict | None:
    """A K line: name, class, flags, the file of a file-based map (None for others), its data files, optional (-o)."""
    words = line[1:].split()
    if len(words) < 2:
        return None
    name, map_class = words[0], words[1]
    flags, path = _file_argument(words[2:])
    if map_class not in FILE_MAP_SUFFIXES:
        path = None
    if map_class in ('hash', 'btree') and path and path.endswith('.db'):
        path = path[:-3]
    return {'name': name, 'class': map_class, 'flags': flags, 'file': path,
            'data_files': data_files(map_class, path), 'optional': '-o' in flags}


# The fields of an M line: one letter, '=', a value up to the next ', X='.
_MAILER_FIELD = re.compile(r',\s*(?=[A-Za-z]=)')


def parse_mailer(line: str) -> dict | None:
    """An M line: ``name``, ``path`` (P=), ``flags`` (F=, the letters), ``argv`` (A=); None when it declares no mailer."""
    head, _comma, rest = line[1:].partition(',')
    name = head.strip()
    if not name or not rest:
        return None
    fields = {}
    for part in _MAILER_FIELD.split(rest.strip()):
        key, equals, value = part.strip().partition('=')
        if equals:
            fields[key[:1].upper()] = ' '.join(value.split())
    return {'name': name, 'path': fields.get('P'), 'flags': fields.get('F', ''), 'argv': fields.get('A')}


def run_as_parts(value: str | None) -> tuple:
    """(user, group) of a RunAsUser or DefaultUser value: sendmail splits ``user:group`` at the first
    ':', '/' or '.' (readcf.c); None for a part not given."""
    user, _sep, group = re.match(r'([^:./]*)([:./]?)(.*)', (value or '').strip()).groups()
    return (user.strip() or None), (group.strip() or None)


def alias_files(values: list) -> list:
    """The AliasFile entries: class (implicit when none), file, data files, optional; non-file classes have file None."""
    entries = []
    for value in values or []:
        for item in value.split(','):
            item = item.strip()
            if not item:
                continue
            map_class, colon, spec = item.partition(':')
            if not colon or map_class.startswith('/'):
                map_class, spec = 'implicit', item
            flags, path = _file_argument(spec.split())
            if map_class not in FILE_MAP_SUFFIXES:
                path = None
            entries.append({'class': map_class, 'file': path, 'data_files': data_files(map_class, path), 'optional': '-o' in flags})
    return entries
