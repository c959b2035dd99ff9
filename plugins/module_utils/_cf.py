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
    'UnsafeGroupWrites', 'DoubleBounceAddress', 'ConnectionRateWindowSize',
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
    'DeadLetterDrop', 'UnsafeGroupWrites',
)

_CLASS_NAME = re.compile(r'^(\{[^}]*\}|\S)')


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
    (F lines) and ``version_level`` (the V line).
    """
    result = {'options': {}, 'lines': {}, 'occurrences': {}, 'classes': {}, 'class_files': {}, 'version_level': None}
    for number, line in fold_lines(text):
        kind = line[:1]
        if kind == 'O':
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
    return result


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


def port_options(value: str) -> dict:
    """Split a DaemonPortOptions value into its key=value pairs, keys as written."""
    pairs = {}
    for item in value.split(','):
        key, _eq, setting = item.partition('=')
        if key.strip():
            pairs[key.strip()] = setting.strip()
    return pairs


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
    return found
