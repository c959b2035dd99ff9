# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The platform layer: each family's places, read in the family's order first; and no other product file names
a platform path of its own."""

from __future__ import annotations

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.mailsec.sendmail.plugins.module_utils import _platform
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, OS_FAMILIES, expected_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
# A string that is a path of the host's file system, whole (prose that cites one is documentation).
PATH = re.compile(r'^/(etc|usr|var|run|lib|lib64|sbin|bin|opt|srv|home)(/\S*)?$')
DOC_NAMES = ('DOCUMENTATION', 'EXAMPLES', 'RETURN')


def _path_literals(path: str) -> list:
    """(line, text) of the string constants of a Python file that are host paths, but for its module docs."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id in DOC_NAMES for target in node.targets)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs and PATH.match(node.value)]


def test_no_product_file_but_the_platform_layer_names_a_platform_path():
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, 'plugins')):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith('.py') and name != '_platform.py':
                found += ['%s:%d %s' % (os.path.relpath(path, ROOT), line, text) for line, text in _path_literals(path)]
    assert found == []


# The one path the role's tasks may name: the POSIX shell, the same on every system.
SHELL = '/bin/sh'


def _yaml_paths(value) -> list:
    """The words of a YAML document's strings that are host paths, Jinja expressions included."""
    if isinstance(value, dict):
        return [path for item in value.values() for path in _yaml_paths(item)]
    if isinstance(value, list):
        return [path for item in value for path in _yaml_paths(item)]
    if isinstance(value, str):
        return [word for word in re.findall(r'[\w/.*-]+', value) if PATH.match(word) and word != SHELL]
    return []


def test_no_role_or_playbook_names_a_platform_path():
    """The roles' variables, tasks and handlers and the playbooks take platform paths from the modules' results."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', '*', '*.yml')) + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml'))):
        if os.sep + 'meta' + os.sep not in path:
            with open(path, encoding='utf-8') as handle:
                paths = _yaml_paths(yaml.safe_load(handle))
            if paths:
                found[os.path.relpath(path, ROOT)] = paths
    assert found == {}
    assert _yaml_paths({'a': ["{{ x or '/etc/mail/x.crt' }}", '/bin/sh -n %s']}) == ['/etc/mail/x.crt']


def test_the_guard_sees_a_path_literal(tmp_path):
    """The guard above would see one: a path in code, not one in a module's documentation."""
    sample = tmp_path / 'sample.py'
    sample.write_text("DOCUMENTATION = '/etc/mail/sendmail.cf'\nQUEUE = '/var/spool/mqueue'\nNOTE = 'see /etc/mail'\n")
    assert _path_literals(str(sample)) == [(2, '/var/spool/mqueue')]


@pytest.mark.parametrize('family, first', [('Debian', '/etc/mail/smrsh'), ('RedHat', '/etc/smrsh'),
                                           ('FreeBSD', '/usr/libexec/sm.bin'), (None, '/etc/mail/smrsh')])
def test_the_family_is_read_first_then_every_other(family, first):
    dirs = _platform.places('smrsh_dirs', family)
    assert dirs[0] == first
    assert len(dirs) == len(set(dirs))
    assert set(dirs) == {d for facts in (*_platform.PLATFORMS.values(), _platform.UPSTREAM) for d in facts['smrsh_dirs']}


def test_every_known_family_has_every_fact():
    keys = set(_platform.DEBIAN)
    for name, facts in _platform.PLATFORMS.items():
        assert keys <= set(facts), name
    assert keys <= set(_platform.UPSTREAM)
    assert set(_platform.PLATFORMS) == set(OS_FAMILIES)


def test_package_managers():
    assert _platform.platform('Debian')['package_manager'] == 'dpkg'
    assert _platform.platform('RedHat')['package_manager'] == 'rpm'
    assert _platform.platform('Solaris')['package_manager'] is None


def test_red_hat_program_and_alternatives():
    assert _platform.places('programs', 'RedHat')[0] == '/usr/sbin/sendmail.sendmail'
    assert '/etc/alternatives/mta' in _platform.places('alternatives')


def test_debian_pins_are_the_statoverride_controls_expected_entries():
    assert expected_for(BY_ID['SM-STATOVR-01'], 'Debian')['entries'] == _platform.DEBIAN['pinned']


def test_handover_uses_its_familys_own_smrsh_directory():
    """Debian's sensible-mda runs the first of its links in Debian's smrsh directory, whatever else is known."""
    assert _platform.handover() == {'sensible-mda': tuple('/etc/mail/smrsh/' + name
                                                          for name in ('procmail', 'maildrop', 'deliver', 'mail.local'))}
