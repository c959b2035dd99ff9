# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import importlib.util
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def load_generator():
    spec = importlib.util.spec_from_file_location('gen_controls_doc', os.path.join(ROOT, 'tests', 'tools', 'gen_controls_doc.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_controls_md_is_up_to_date():
    generator = load_generator()
    with open(os.path.join(ROOT, 'docs', 'controls.md'), encoding='utf-8') as handle:
        current = handle.read()
    assert current == generator.render(generator.load_catalogue()), 'docs/controls.md is stale: run make docs'


def test_docs_xccdf_benchmark_is_up_to_date():
    with open(os.path.join(ROOT, 'docs', 'xccdf-benchmark.xml'), encoding='utf-8') as handle:
        assert handle.read() == load_generator().render_benchmark(), 'docs/xccdf-benchmark.xml is stale: run make docs'


def test_every_control_has_a_section_and_the_package_notes():
    text = load_generator().render(load_generator().load_catalogue())
    catalogue = load_generator().load_catalogue()
    for control in catalogue.CONTROLS:
        assert '\n## %s: %s\n' % (control['id'], control['title']) in text
        if control['package_note']:
            assert control['package_note'] in text


def test_check_mode_reports_a_stale_file(tmp_path, capsys):
    generator = load_generator()
    stale = tmp_path / 'controls.md'
    stale.write_text('old\n')
    assert generator.main(['--check', str(stale)]) == 1
    assert 'is stale' in capsys.readouterr().err
    assert generator.main([str(stale)]) == 0
    assert generator.main(['--check', str(stale)]) == 0


def test_what_a_fix_needs_is_documented_on_both_controls():
    generator = load_generator()
    catalogue = generator.load_catalogue()
    text = generator.render(catalogue)
    for control_id, requirements in catalogue.REQUIRES.items():
        for requirement in requirements:
            assert '**Needs, when hardened.** %s (%s)' % (requirement['id'], ', '.join(requirement['keys'])) in text
            needed_by = [line for line in text.splitlines() if line.startswith('**Needed by the fix of** ')]
            assert any(control_id in line[len('**Needed by the fix of** '):].rstrip('.').split(', ') for line in needed_by)
