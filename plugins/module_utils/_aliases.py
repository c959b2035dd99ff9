# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Pure functions on the text of an alias file: its entries, and the two edits the hardening makes.

An entry is ``name: targets``; a line that starts with a blank goes on with the entry before it;
comments and blank lines are no entries. The edits keep every other byte: ``disable`` comments
out the lines of the entries it names (a note above says why), ``add`` appends one entry.
"""

from __future__ import annotations

import os


def split_targets(text: str) -> list:
    """The comma-separated addresses of an alias right-hand side or a list line; quotes protect commas."""
    targets, current, quoted = [], '', False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ',' and not quoted:
            targets.append(current)
            current = ''
        else:
            current += char
    targets.append(current)
    return [target.strip() for target in targets if target.strip()]


def target_kind(target: str) -> tuple:
    """(kind, value) of one address: ``program``, ``file``, ``include`` or ``address``."""
    bare = target.strip()
    if bare.startswith('"') and bare.endswith('"') and len(bare) > 1:
        bare = bare[1:-1].strip()
    if bare.startswith('|'):
        return 'program', bare[1:].strip()
    if bare.lower().startswith(':include:'):
        return 'include', bare[len(':include:'):].strip()
    if bare.startswith('/'):
        return 'file', bare
    return 'address', bare


def entries(text: str) -> list:
    """The entries of an alias file: ``line`` and ``end`` (1-based, inclusive), ``name``, ``rhs``, ``targets``.

    As sendmail's readaliases (alias.c): a line ending in a backslash goes on with the next one; a line
    that starts with a blank goes on with the entry before it, unless a comment or a blank line came
    between them (they end an entry).
    """
    found, open_entry, joined = [], False, False
    for number, line in enumerate((text or '').splitlines(), start=1):
        follows = joined
        joined = line.endswith('\\')
        body = line[:-1] if joined else line
        if follows and found:
            found[-1]['rhs'] += ' ' + body.strip()
            found[-1]['end'] = number
            continue
        if line.lstrip().startswith('#') or not line.strip():
            open_entry, joined = False, False
            continue
        if line[:1] in (' ', '\t'):
            if open_entry and found:
                found[-1]['rhs'] += ' ' + body.strip()
                found[-1]['end'] = number
            continue
        name, colon, rhs = body.partition(':')
        open_entry = bool(colon)
        if colon:
            found.append({'line': number, 'end': number, 'name': name.strip(), 'rhs': rhs.strip()})
    for entry in found:
        entry['targets'] = [list(target_kind(target)) for target in split_targets(entry['rhs'])]
    return found


# What smrsh refuses in a command line (smrsh.c): shell syntax it will not pass on.
SMRSH_REFUSED = '<|>^();&`$\r\n'


def command_word(command: str) -> str | None:
    """The program a ``|command`` runs: its first word (after an ``exec``), quotes removed; None when there is none."""
    words = command.strip().strip('"').split()
    if words[:1] == ['exec']:
        words = words[1:]
    return words[0] if words else None


def program_path(command: str) -> str | None:
    """The program a ``|command`` runs, where it is an absolute path."""
    word = command_word(command)
    return os.path.normpath(word) if word and word.startswith('/') else None


def smrsh_name(command: str) -> str | None:
    """The name smrsh looks for in its directory to run ``command`` (the program's base name); None where smrsh
    refuses the command (shell syntax) or there is no program."""
    word = command_word(command)
    if word is None or any(char in command.strip().strip('"') for char in SMRSH_REFUSED):
        return None
    return os.path.basename(word)


def named(text: str, names) -> list:
    """The entries whose name is one of ``names`` (sendmail compares alias names without case)."""
    wanted = {name.lower() for name in names}
    return [entry for entry in entries(text) if entry['name'].lower() in wanted]


def disable(text: str, names, why: str) -> str:
    """``text`` with the entries named ``names`` commented out, a note above each; same text when none."""
    found = named(text, names)
    if not found:
        return text
    lines = text.splitlines(True)
    for entry in reversed(found):
        first, last = entry['line'] - 1, entry['end']
        lines[first:last] = ['# %s\n' % why] + ['#' + line if line.endswith('\n') else '#' + line + '\n'
                                                for line in lines[first:last]]
    return ''.join(lines)


def add(text: str, name: str, value: str) -> str:
    """``text`` with the entry ``name: value`` appended (on a line of its own; after a blank line where the last
    line ends in a backslash, which would join the new entry to it)."""
    prefix = '' if not text or text.endswith('\n') else '\n'
    if text.rstrip('\n').endswith('\\'):
        prefix += '\n'
    return text + prefix + '%s: %s\n' % (name, value)
