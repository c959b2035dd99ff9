# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Pure functions on the text of a sendmail.cf: compare it with a build of its .mc, edit one option in place.

Hand edits of an installed .cf are the rule on old fleets. ``compare`` finds them (the lines the
installed file has and a rebuild would drop, and the lines a rebuild would add), comments and
blank lines aside. ``set_option`` changes one option where it stands and keeps every other line
byte for byte, so that a host's own lines survive the hardening.
"""

from __future__ import annotations

import difflib
import re

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import canonical_name, fold_lines, parse_cf, split_option


class CfEditError(ValueError):
    """A value that cannot be written as one option line."""


def significant_lines(text: str) -> list:
    """(line number, logical line) of every line sendmail reads: not a comment, not blank; trailing blanks dropped."""
    found = []
    for number, line in fold_lines(text or ''):
        line = line.rstrip()
        if line and not line.startswith('#'):
            found.append((number, line))
    return found


def compare(installed: str, built: str) -> dict:
    """What differs between an installed .cf and a build of its .mc, beyond comments and blank lines.

    Returns ``only_installed`` (what a rebuild would drop: hand edits) and ``only_built`` (what a
    rebuild would add: .mc changes not yet built), each a list of ``{'line', 'text'}`` with the line
    number in its own file, in file order.
    """
    left, right = significant_lines(installed), significant_lines(built)
    matcher = difflib.SequenceMatcher(None, [text for _n, text in left], [text for _n, text in right], autojunk=False)
    only_installed, only_built = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ('replace', 'delete'):
            only_installed.extend({'line': n, 'text': t} for n, t in left[i1:i2])
        if tag in ('replace', 'insert'):
            only_built.extend({'line': n, 'text': t} for n, t in right[j1:j2])
    return {'only_installed': only_installed, 'only_built': only_built}


def agrees(difference: dict) -> bool:
    """Whether a ``compare`` result shows no difference at all."""
    return not difference['only_installed'] and not difference['only_built']


def _is_option(line: str, name: str) -> bool:
    option = split_option(line) if line.startswith('O') else None
    return option is not None and option[0].lower() == name.lower()


def _is_commented_option(line: str, name: str) -> bool:
    """m4 writes an unset option as '#O Name=default': the place a define would put the line."""
    return line.startswith('#O ') and _is_option(line[1:], name)


def _physical(text: str) -> list:
    """[first line index, last line index] of each logical line (a line and its continuation lines)."""
    lines = text.splitlines(True)
    spans = []
    for index, line in enumerate(lines):
        if line[:1] in (' ', '\t') and spans:  # as _text_cf.fold_lines: a blank-led line continues the one before
            spans[-1][1] = index
        else:
            spans.append([index, index])
    return spans


def option_values(text: str, name: str) -> list:
    """Every value of option ``name`` in a .cf text, in order."""
    return [split_option(line)[1] for _n, line in fold_lines(text or '') if _is_option(line, name)]


def set_option(text: str, name: str, value: str) -> str:
    """``text`` with option ``name`` set to ``value`` in place, every other line kept.

    The first active line of the option gets the new value (later ones are removed: they would
    override or add to it); without one, the ``#O name=`` line m4 leaves for an unset option is
    replaced, so the result reads as a rebuild would; without that, the line goes after the last
    option line. Same value, same text.
    """
    # Any line break splitlines() knows would split the line sendmail and the parser read.
    if not isinstance(value, str) or value.splitlines() not in ([], [value]):
        raise CfEditError('the value of %s must be one line of text' % name)
    name = canonical_name(name)
    wanted = 'O %s=%s' % (name, value)
    lines = text.splitlines(True)
    spans = _physical(text)
    logical = [''.join(lines[a:b + 1]).rstrip('\r\n') for a, b in spans]
    active = [i for i, line in enumerate(logical) if _is_option(line, name)]
    if len(active) == 1 and logical[active[0]].rstrip() == wanted:
        return text
    commented = [i for i, line in enumerate(logical) if _is_commented_option(line, name)]
    options = [i for i, line in enumerate(logical) if line.startswith('O')]
    newline = '\r\n' if lines and lines[0].endswith('\r\n') else '\n'
    replace, drop, insert_after = None, set(active[1:]), None
    if active:
        replace = active[0]
    elif commented:
        replace = commented[0]
    elif options:
        insert_after = options[-1]
    out = []
    for index, (first, last) in enumerate(spans):
        if index in drop:
            continue
        if index == replace:
            out.append(wanted + newline)
        else:
            out.extend(lines[first:last + 1])
        if index == insert_after:
            if not out[-1].endswith('\n'):
                out[-1] += newline
            out.append(wanted + newline)
    if replace is None and insert_after is None:
        if out and not out[-1].endswith('\n'):
            out[-1] += newline
        out.append(wanted + newline)
    return ''.join(out)


def set_repeated(text: str, name: str, values: list) -> str:
    """``text`` with the lines of a repeated option (DaemonPortOptions) holding ``values``, every other line kept.

    With as many active lines as values, each line gets its value in place; otherwise the first
    line (or where ``set_option`` would put a new one) gets them all and the later lines go.
    Same values, same text.
    """
    name = canonical_name(name)
    for value in values:
        if not isinstance(value, str) or value.splitlines() not in ([], [value]):
            raise CfEditError('each value of %s must be one line of text' % name)
    if option_values(text, name) == list(values):
        return text
    lines = text.splitlines(True)
    spans = _physical(text)
    logical = [''.join(lines[a:b + 1]).rstrip('\r\n') for a, b in spans]
    active = [i for i, line in enumerate(logical) if _is_option(line, name)]
    newline = '\r\n' if lines and lines[0].endswith('\r\n') else '\n'
    if not active:
        marker = '\0%s\0' % name
        text = set_option(text, name, marker)
        return text.replace('O %s=%s' % (name, marker), newline.join('O %s=%s' % (name, value) for value in values))
    pairs = list(zip(active, values)) if len(active) == len(values) else [(active[0], None)]
    wanted = {index: 'O %s=%s' % (name, value) for index, value in pairs if value is not None}
    if len(active) != len(values):
        wanted[active[0]] = newline.join('O %s=%s' % (name, value) for value in values)
    out = []
    for index, (first, last) in enumerate(spans):
        if index in wanted:
            out.append(wanted[index] + newline)
        elif index not in active:
            out.extend(lines[first:last + 1])
    return ''.join(out)


def set_mailer(text: str, name: str, path: str, argv: str) -> str:
    """``text`` with the P= and A= of mailer ``name`` (its M line and the lines that go on with it) set
    in place, as FEATURE(`smrsh') would build them; every other field and line kept."""
    for what, value in (('path', path), ('argv', argv)):
        if not isinstance(value, str) or not value or ',' in value or value.splitlines() != [value]:
            raise CfEditError('the %s of mailer %s must be one line without commas' % (what, name))
    lines = text.splitlines(True)
    out = []
    for first, last in _physical(text):
        chunk = ''.join(lines[first:last + 1])
        if chunk.startswith('M') and chunk[1:].split(',', 1)[0].strip() == name:
            chunk = re.sub(r'(,\s*P=)[^,]*', lambda match: match.group(1) + path, chunk, count=1)
            chunk = re.sub(r'(,\s*A=)[^,\r\n]*', lambda match: match.group(1) + argv, chunk, count=1)
        out.append(chunk)
    new = ''.join(out)
    mailer = parse_cf(new)['mailers'].get(name)
    if mailer and (mailer['path'], mailer['argv']) != (path, argv):
        raise CfEditError('the M%s line is not written as P=..., A=...: set it by hand' % name)
    return new
