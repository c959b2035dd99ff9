# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write docs/controls.md and docs/xccdf-benchmark.xml from the controls catalogue (plugins/module_utils/_controls.py).

    gen_controls_doc.py            rewrite docs/controls.md and, beside it, xccdf-benchmark.xml
    gen_controls_doc.py --check    exit 1 when either differs from the catalogue

The catalogue (with the platform module it reads: both need the standard library only, not Ansible) and the
Benchmark the audit's XCCDF results carry (plugins/module_utils/_report_scap.py) are imported through a temporary
ansible_collections tree that links this repository; the Benchmark has the collection's version from galaxy.yml.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import json
import os
import re
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUTPUT = os.path.join(ROOT, 'docs', 'controls.md')


@contextlib.contextmanager
def collection_importable():
    """This repository importable as ansible_collections.mailsec.sendmail, through a temporary tree that links it,
    for as long as the block runs (a module already imported stays as it is)."""
    with tempfile.TemporaryDirectory() as tree:
        os.makedirs(os.path.join(tree, 'ansible_collections', 'mailsec'))
        os.symlink(ROOT, os.path.join(tree, 'ansible_collections', 'mailsec', 'sendmail'))
        sys.path.insert(0, tree)
        try:
            yield
        finally:
            sys.path.remove(tree)


def load_catalogue():
    """The _controls module, with the platform module it reads; neither needs Ansible."""
    with collection_importable():
        return importlib.import_module('ansible_collections.mailsec.sendmail.plugins.module_utils._controls')


def _expected_lines(cat, control: dict) -> list:
    lines = []
    for family in ['default'] + [name for name in cat.OS_FAMILIES if name in control['expected']]:
        expected = cat.expected_for(control, None if family == 'default' else family)
        lines.append('- %s: %s' % ('any OS family' if family == 'default' else family, cat.describe_expected(control, expected)))
    return lines


def _override_lines(cat, control: dict) -> list:
    if not control['override']:
        return ['Nothing to override.']
    return ['- `%s` (%s): %s' % (key, cat.describe_key(schema), schema['description']) for key, schema in control['override'].items()]


def _requires_lines(cat, control: dict) -> list:
    """What the control's fix needs of other controls' (REQUIRES), and what the control's fix is needed for."""
    lines = []
    for requirement in cat.REQUIRES.get(control['id'], ()):
        needed = cat.BY_ID[requirement['id']]
        groups = cat.fix_targets(needed)[0]
        why = requirement['why'].format(path='`%s`' % ', '.join(groups), owner='that user',
                                        group=(cat.expected_for(needed, None).get('group') or ['its group'])[0])
        lines += ['**Needs, when hardened.** %s (%s): %s. Where the plan would leave the host without it, the hardening '
                  'takes that fix too and says so; where %s is excluded, switched off or waived, it holds back the steps '
                  'that need it.' % (requirement['id'], ', '.join(requirement['keys']), why, requirement['id']), '']
    needed_by = [control_id for control_id, items in cat.REQUIRES.items() if any(item['id'] == control['id'] for item in items)]
    if needed_by:
        lines += ['**Needed by the fix of** %s.' % ', '.join(needed_by), '']
    return lines


def render_control(cat, control: dict) -> list:
    applies = ', '.join(control['applies']['os_family'] or ['every OS family'])
    row = (control['family'], control['severity'], ', '.join(control['tags']), applies)
    lines = [
        '## %s: %s' % (control['id'], control['title']),
        '',
        '| family | severity | tags | applies to |',
        '|---|---|---|---|',
        '| %s | %s | %s | %s |' % row,
        '',
        '**Why.** ' + control['rationale'],
        '',
        '**How it is checked.** ' + control['check'],
        '',
        '**Expected by default.**',
        '',
    ]
    lines += _expected_lines(cat, control)
    lines += ['', '**Override keys** (module option `expected`, key `%s`):' % control['id'], '']
    lines += _override_lines(cat, control)
    lines += ['', '**How it is fixed.** ' + control['fix'], '']
    for family in ['default'] + [name for name in cat.OS_FAMILIES if name in control['expected']]:
        fix = cat.fix_actions(control, cat.expected_for(control, None if family == 'default' else family))
        lines += ['Fix data for the hardening role (%s):' % ('any OS family' if family == 'default' else family), '', '```json']
        lines += json.dumps(fix, indent=2, sort_keys=True).splitlines()
        lines += ['```', '']
    lines += _requires_lines(cat, control)
    if control['package_note']:
        lines += ['**Why the baseline differs from the package.** ' + control['package_note'], '']
    lines += ['**References.**', '']
    lines += ['- ' + ref for ref in cat.references(control)]
    if not control['references']['stig']:
        lines.append('- DISA STIG: no item found for this control')
    lines.append('')
    return lines


def render(cat) -> str:
    lines = [
        '# sendmail controls',
        '',
        '<!-- Generated by tests/tools/gen_controls_doc.py from plugins/module_utils/_controls.py: edit those, '
        'then run `make docs`. -->',
        '',
        'Each control of the mailsec.sendmail baseline is defined once, as data, in '
        '`plugins/module_utils/_controls.py`; the module `mailsec.sendmail.sendmail_drift`, the hardening role and '
        'this page all read that definition.',
        '',
        'A finding has one of the statuses %s. `fail` and `error` are drift. A host without sendmail gives '
        '`not_applicable` for every control; a configuration file that cannot be read gives `error` for the controls '
        'that read it. A waiver (module option `waivers`: `id`, `hosts`, `reason`, `expires`) turns a `fail` into '
        '`waived` until its expiry date; after it, the control fails again and the finding shows the waiver as '
        'expired. The hardening honours the same waivers: a waived control is left as it is.'
        % ', '.join('`%s`' % status for status in cat.STATUSES),
        '',
        'Expected values depend on the OS family and can be overridden per control with the module option '
        '`expected` (modes as quoted octal strings). In path specifications, `@MTAUser` is the user the MTA '
        'runs as (RunAsUser when set, else root); `@RunAsUser` and `@TrustedUser` stand '
        'for the users the MTA configuration names, when it names them; `mode` is the most permissive mode allowed.',
        '',
        '| id | family | severity | title |',
        '|---|---|---|---|',
    ]
    for control in cat.CONTROLS:
        anchor = ('%s-%s' % (control['id'], control['title'])).lower()
        anchor = ''.join(ch for ch in anchor if ch.isalnum() or ch in ' -').replace(' ', '-')
        lines.append('| [%s](#%s) | %s | %s | %s |' % (control['id'], anchor, control['family'], control['severity'], control['title']))
    lines.append('')
    for control in cat.CONTROLS:
        lines += render_control(cat, control)
    return '\n'.join(lines).rstrip('\n') + '\n'


BENCHMARK_NAME = 'xccdf-benchmark.xml'


def collection_version() -> str:
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        return re.search(r'^version:\s*(\S+)', handle.read(), re.M).group(1)


def render_benchmark() -> str:
    """docs/xccdf-benchmark.xml: the catalogue as the XCCDF 1.2 Benchmark of the audit's results."""
    with collection_importable():
        module = importlib.import_module('ansible_collections.mailsec.sendmail.plugins.module_utils._report_scap')
        return module.benchmark_text(collection_version())


def _stale(path: str, text: str) -> bool:
    try:
        with open(path, encoding='utf-8') as handle:
            current = handle.read()
    except OSError:
        current = ''
    if current == text:
        return False
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True), path, 'generated'))
    print('%s is stale: run make docs' % os.path.relpath(path, ROOT), file=sys.stderr)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true', help='fail when the file is stale instead of writing it')
    parser.add_argument('output', nargs='?', default=OUTPUT)
    args = parser.parse_args(argv)
    outputs = {args.output: render(load_catalogue()),
               os.path.join(os.path.dirname(args.output), BENCHMARK_NAME): render_benchmark()}
    if args.check:
        return 1 if [path for path, text in outputs.items() if _stale(path, text)] else 0
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    for path, text in outputs.items():
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
