# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Pure parser and editor for sendmail .mc files (m4 source of sendmail.cf and submit.cf).

Only the top-level calls that matter for configuration are read: ``define``,
``undefine``, ``FEATURE``, ``MAILER``, ``MAILER_DEFINITIONS``, ``DAEMON_OPTIONS``,
``include`` and ``changecom``. The scanner follows m4's own rules where they decide what is
active: nested quotes (backquote opens, quote closes), ``dnl`` (removes the rest
of the line and its newline, also between arguments), and ``#`` comments, which
sendmail's ``cf.m4`` switches off (``changecom()``) once it is included.
Edits change only the text of the call they touch and keep everything else
byte for byte.
"""

from __future__ import annotations

import re

TRACKED = ('define', 'undefine', 'FEATURE', 'MAILER', 'MAILER_DEFINITIONS', 'include', 'changecom', 'DAEMON_OPTIONS')

_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_VALID_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_DNL_COMMENT = re.compile(r'^[ \t]*dnl(?![A-Za-z0-9_])[^\n]*\n$')


class McError(ValueError):
    """A .mc text that cannot be scanned, or a value that cannot be written into one."""


def _line_of(text: str, pos: int) -> int:
    return text.count('\n', 0, pos) + 1


def _end_of_quote(text: str, pos: int) -> int:
    """Index after the quote closing the backquote at ``pos`` (quotes nest)."""
    depth = 0
    for index in range(pos, len(text)):
        char = text[index]
        if char == '`':
            depth += 1
        elif char == "'":
            depth -= 1
            if depth == 0:
                return index + 1
    raise McError('unterminated m4 quote starting on line %d' % _line_of(text, pos))


def _end_of_line(text: str, pos: int) -> int:
    """Index after the next newline (or the end of the text)."""
    newline = text.find('\n', pos)
    return len(text) if newline < 0 else newline + 1


def _collect_args(text: str, pos: int, comments: bool):
    """Arguments of a macro call whose '(' ends just before ``pos``.

    Returns (values, spans, index of the closing parenthesis). A value is the
    argument with one level of quotes removed, as m4 passes it; a span is the
    (start, end) of the argument's own text, without leading blanks and ``dnl``.
    """
    values = []
    spans = []
    length = len(text)
    while True:
        while pos < length and text[pos] in ' \t\r\n':
            pos += 1
        parts = []
        start = end = None
        depth = 0
        while True:
            if pos >= length:
                raise McError('unterminated macro call: no closing parenthesis before the end of the file')
            char = text[pos]
            token_end = pos + 1
            if char == '`':
                token_end = _end_of_quote(text, pos)
                parts.append(text[pos + 1:token_end - 1])
            elif comments and char == '#':
                token_end = _end_of_line(text, pos)
                parts.append(text[pos:token_end])
            elif _NAME.match(char):
                token_end = _NAME.match(text, pos).end()
                if text[pos:token_end] == 'dnl':
                    pos = _end_of_line(text, token_end)
                    continue
                parts.append(text[pos:token_end])
            elif char in ',)' and depth == 0:
                values.append(''.join(parts))
                spans.append((pos, pos) if start is None else (start, end))
                if char == ')':
                    return values, spans, pos
                pos += 1
                break
            else:
                if char == '(':
                    depth += 1
                elif char == ')':
                    depth -= 1
                parts.append(char)
            # m4 keeps blanks after the leading ones (after a dnl, before the comma): they are the argument's too.
            if start is None:
                start = pos
            end = token_end
            pos = token_end


def scan(text: str) -> list:
    """The top-level calls of TRACKED macros, in order.

    Each is a dict: ``macro``, ``args`` (values), ``spans`` (of each argument),
    ``start`` (of the macro name), ``close`` (index of its closing parenthesis,
    None without arguments), ``end`` (after the call and a ``dnl`` right after it,
    with that line's newline) and ``line`` (1-based).
    """
    found = []
    pos = 0
    length = len(text)
    comments = True
    while pos < length:
        char = text[pos]
        if char == '`':
            pos = _end_of_quote(text, pos)
            continue
        if comments and char == '#':
            pos = _end_of_line(text, pos)
            continue
        match = _NAME.match(text, pos)
        if not match:
            pos += 1
            continue
        word = match.group(0)
        if word == 'dnl':
            pos = _end_of_line(text, match.end())
            continue
        if word not in TRACKED:
            pos = match.end()
            continue
        close = None
        args, spans, end = [], [], match.end()
        if end < length and text[end] == '(':
            args, spans, close = _collect_args(text, end + 1, comments)
            end = close + 1
        after = _NAME.match(text, end)
        if after and after.group(0) == 'dnl':
            end = _end_of_line(text, after.end())
        found.append({'macro': word, 'args': args, 'spans': spans, 'start': match.start(), 'close': close,
                      'end': end, 'line': _line_of(text, match.start())})
        if word == 'include' and args and args[0].endswith('cf.m4'):
            comments = False  # sendmail's cfhead.m4 runs changecom()
        elif word == 'changecom':
            comments = bool(args and args[0] == '#')
        pos = end
    return found


def parse_mc(text: str) -> dict:
    """The settings of a .mc text.

    Returns ``defines`` (name -> value in effect at the end, after any
    ``undefine``), ``undefined`` (names whose last word is an ``undefine``),
    ``features`` (name -> list of its further arguments, last call wins),
    ``mailers`` (in order) and ``includes`` (in order).
    """
    result = {'defines': {}, 'undefined': [], 'features': {}, 'mailers': [], 'includes': []}
    for call in scan(text):
        macro, args = call['macro'], call['args']
        if macro == 'define' and args:
            result['defines'][args[0]] = args[1] if len(args) > 1 else ''
            if args[0] in result['undefined']:
                result['undefined'].remove(args[0])
        elif macro == 'undefine' and args:
            result['defines'].pop(args[0], None)
            if args[0] not in result['undefined']:
                result['undefined'].append(args[0])
        elif macro == 'FEATURE' and args:
            result['features'][args[0]] = args[1:]
        elif macro == 'MAILER' and args:
            result['mailers'].append(args[0])
        elif macro == 'include' and args:
            result['includes'].append(args[0])
    return result


def quote(value: str) -> str:
    """``value`` as one m4 quoted string."""
    return '`%s\'' % value


def check_name(name: str, what: str = 'define') -> None:
    """Raise McError unless ``name`` is a valid m4 macro or feature name."""
    if not isinstance(name, str) or not _VALID_NAME.match(name):
        raise McError('%r is not a valid %s name: use letters, digits and underscores' % (name, what))


def check_value(name: str, value: str) -> None:
    """Raise McError when ``value`` cannot be written as one m4 quoted string.

    A quote without its backquote would end the string early and m4 would
    silently build something else; a backquote without its quote would swallow
    the rest of the file.
    """
    if not isinstance(value, str):
        raise McError('the value of %s must be a string, not %s' % (name, type(value).__name__))
    if '\n' in value or '\r' in value:
        raise McError('the value of %s must be one line: remove the line break' % name)
    depth = 0
    for char in value:
        if char == '`':
            depth += 1
        elif char == "'":
            depth -= 1
            if depth < 0:
                break
    if depth != 0:
        raise McError("the value of %s has unbalanced m4 quotes (` and '): every backquote needs a quote after it" % name)


def _calls(text: str, macro: str, name: str) -> list:
    return [call for call in scan(text) if call['macro'] == macro and call['args'] and call['args'][0] == name]


def insertion_point(text: str) -> int:
    """Where a new define or FEATURE goes: before the first ``MAILER(`` or
    ``MAILER_DEFINITIONS`` line (they must come before mailers) and the ``dnl``
    comment lines right above it, else at the end of the text."""
    for call in scan(text):
        if call['macro'] in ('MAILER', 'MAILER_DEFINITIONS'):
            point = text.rfind('\n', 0, call['start']) + 1
            # Keep the comment lines just above (e.g. "dnl # Default Mailer setup") with it.
            while point > 0:
                previous = text.rfind('\n', 0, point - 1) + 1
                if not _DNL_COMMENT.match(text[previous:point]):
                    break
                point = previous
            return point
    return len(text)


def _insert(text: str, line: str) -> str:
    point = insertion_point(text)
    if point == len(text) and text and not text.endswith('\n'):
        line = '\n' + line
    return text[:point] + line + text[point:]


def _remove_span(text: str, call: dict) -> tuple:
    """(start, end) to delete for ``call``: its whole line(s) when nothing else is on them."""
    start, end = call['start'], call['end']
    line_start = text.rfind('\n', 0, start) + 1
    if text[line_start:start].strip():
        return start, end
    if end < len(text) and text[end - 1] != '\n':
        rest = _end_of_line(text, end)
        if text[end:rest].strip():
            return start, end
        end = rest
    return line_start, end


def _delete(text: str, calls: list) -> str:
    for call in sorted(calls, key=lambda item: item['start'], reverse=True):
        start, end = _remove_span(text, call)
        text = text[:start] + text[end:]
    return text


def set_define(text: str, name: str, value: str) -> str:
    """Set ``define(`name', `value')``: every active define of ``name`` gets the
    value in place (a commented-out ``dnl define`` is not touched); without one,
    a new line goes before the first MAILER. An ``undefine`` of the name after
    the last define would cancel it and is removed. Same value, same text.
    """
    check_name(name)
    check_value(name, value)
    defines = _calls(text, 'define', name)
    last = defines[-1]['start'] if defines else insertion_point(text)
    text = _delete(text, [call for call in _calls(text, 'undefine', name) if call['start'] >= last])
    defines = _calls(text, 'define', name)
    if not defines:
        return _insert(text, 'define(`%s\', %s)dnl\n' % (name, quote(value)))
    for call in reversed(defines):
        if len(call['args']) > 1:
            if call['args'][1] != value:
                start, end = call['spans'][1]
                text = text[:start] + quote(value) + text[end:]
        else:
            text = text[:call['close']] + ', ' + quote(value) + text[call['close']:]
    return text


def remove_define(text: str, name: str) -> str:
    """Remove every active define of ``name`` (whole lines where the define is alone on them);
    sendmail's default for it applies again."""
    check_name(name)
    return _delete(text, _calls(text, 'define', name))


def _feature_call(name: str, args: list) -> str:
    return 'FEATURE(%s)' % ', '.join(quote(item) for item in [name] + list(args))


def set_feature(text: str, name: str, args=()) -> str:
    """Set ``FEATURE(`name'[, `arg'...])``: every active call of that feature is
    rewritten when its arguments differ; without one, a new line goes before
    the first MAILER. ``args`` is a list of argument values (empty: none)."""
    check_name(name, 'feature')
    args = list(args)
    for index, item in enumerate(args):
        check_value('argument %d of FEATURE %s' % (index + 1, name), item)
    features = _calls(text, 'FEATURE', name)
    if not features:
        return _insert(text, _feature_call(name, args) + 'dnl\n')
    for call in reversed(features):
        if call['args'][1:] != args:
            text = text[:call['start']] + _feature_call(name, args) + text[call['close'] + 1:]
    return text


def remove_feature(text: str, name: str) -> str:
    """Remove every active ``FEATURE`` call of ``name``."""
    check_name(name, 'feature')
    return _delete(text, _calls(text, 'FEATURE', name))


def set_daemons(text: str, edit, defaults=()) -> str:
    """Each ``DAEMON_OPTIONS`` call given ``edit(value)`` as its value, in place; then, where ``defaults`` lists
    the daemons m4 writes when the .mc names none (the MTA without any DAEMON_OPTIONS, the MSA without
    FEATURE(`no_default_msa')), FEATURE(`no_default_msa') and one ``DAEMON_OPTIONS(`edit(default)')`` each, so
    that the built .cf keeps every daemon it had. Same values, same text."""
    for call in reversed([call for call in scan(text) if call['macro'] == 'DAEMON_OPTIONS' and call['args']]):
        value = call['args'][0]
        wanted = edit(value)
        if wanted != value:
            check_value('DAEMON_OPTIONS', wanted)
            start, end = call['spans'][0]
            text = text[:start] + quote(wanted) + text[end:]
    if defaults:
        text = set_feature(text, 'no_default_msa')
        for value in defaults:
            wanted = edit(value)
            check_value('DAEMON_OPTIONS', wanted)
            text = _insert(text, 'DAEMON_OPTIONS(%s)dnl\n' % quote(wanted))
    return text


def daemon_values(text: str) -> list:
    """The values of the top-level ``DAEMON_OPTIONS`` calls, in order."""
    return [call['args'][0] for call in scan(text) if call['macro'] == 'DAEMON_OPTIONS' and call['args']]
