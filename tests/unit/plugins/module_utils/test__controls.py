# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _controls
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    AUDIT_ONLY_FAMILIES, BY_ID, CONTROLS, FAMILIES, OVERRIDE_TYPES, SEVERITIES, control_ids, describe_expected, expected_for,
    fix_actions, fix_targets, left_out, override_errors, references, select, unknown_selectors,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import EVALUATORS

FIRST_SET = [
    'SM-RUNAS-01', 'SM-RUNAS-02', 'SM-TRUST-01', 'SM-MSP-01', 'SM-SETUID-01', 'SM-SETGID-01', 'SM-STATOVR-01', 'SM-FILE-01', 'SM-FILE-02',
    'SM-FILE-03', 'SM-FILE-04', 'SM-FILE-05', 'SM-FILE-06', 'SM-FILE-07', 'SM-CF-01', 'SM-QUEUE-01', 'SM-QUEUE-02',
    'SM-QUEUE-03', 'SM-SAFE-01', 'SM-SAFE-02', 'SM-TLS-01', 'SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-SMTP-04', 'SM-ALIAS-01', 'SM-ALIAS-02',
    'SM-ALIAS-03', 'SM-FWD-01', 'SM-PROG-01', 'SM-PROG-02', 'SM-PROG-03', 'SM-LOG-01', 'SM-LOG-02', 'SM-DOS-01',
    'SM-RELAY-01', 'SM-RELAY-02', 'SM-TLS-02', 'SM-TLS-03', 'SM-TLS-04', 'SM-TLS-05', 'SM-TLS-06', 'SM-PRIVDROP-01',
]
FIX_KINDS = ('path_attributes', 'clear_mode_bits', 'cf_option', 'statoverride', 'manual', 'empty_file', 'mc_feature_remove',
             'alias_disable', 'alias_add', 'mc_feature_add', 'smrsh_remove', 'cf_listen', 'self_signed')
KEYS = {'id', 'title', 'family', 'tags', 'severity', 'rationale', 'check', 'evaluator', 'params', 'needs', 'expected',
        'override', 'fix', 'fix_data', 'applies', 'references', 'package_note'}


def test_ids_are_stable_and_unique():
    assert control_ids() == FIRST_SET
    assert len(BY_ID) == len(CONTROLS)


@pytest.mark.parametrize('control', CONTROLS, ids=lambda c: c['id'])
def test_every_control_is_complete(control):
    assert set(control) - {'expected_when'} == KEYS
    assert re.match(r'^SM-[A-Z]+-\d\d$', control['id'])
    assert control['family'] in FAMILIES
    assert control['severity'] in SEVERITIES
    assert control['evaluator'] in EVALUATORS
    assert set(control['needs']) <= {'mta', 'msp'}
    assert all(control[key].strip() for key in ('title', 'rationale', 'check', 'fix'))
    assert control['references']['book'] and all(ref.startswith('sendmail 4th ed. ') for ref in control['references']['book'])
    assert all(ref.startswith('DISA STIG GEN') for ref in control['references']['stig'])
    assert references(control)[:len(control['references']['book'])] == control['references']['book']
    assert 'default' in control['expected']
    assert set(control['expected']) - {'default'} <= set(_controls.OS_FAMILIES)
    for family in ('default',) + _controls.OS_FAMILIES:
        expected = expected_for(control, family)
        assert set(expected) == set(control['expected']['default'])
        assert set(expected) == set(control['override'])
        assert describe_expected(control, expected)
        assert override_errors({control['id']: expected}) == [], 'the defaults fit the schema'
        for action in fix_actions(control, expected):
            assert action['kind'] in FIX_KINDS
    for key, schema in control['override'].items():
        assert set(schema) == {'type', 'nullable', 'choices', 'description'}, key
        assert schema['type'] in OVERRIDE_TYPES and schema['description'].strip()
        assert (schema['choices'] is not None) is (schema['type'] == 'choice')


def test_option_fixes_name_the_option_and_its_define():
    actions = [a for c in CONTROLS for a in c['fix_data'] if a['kind'] == 'cf_option']
    assert {(a['option'], a['define']) for a in actions} >= {
        ('RunAsUser', 'confRUN_AS_USER'), ('DontBlameSendmail', 'confDONT_BLAME_SENDMAIL'), ('SafeFileEnvironment', 'confSAFE_FILE_ENV'),
        ('QueueFileMode', 'confQUEUE_FILE_MODE')}
    assert all(a['config'] in ('mta', 'msp') for a in actions)


@pytest.mark.parametrize('control', [c for c in CONTROLS if any(a['kind'] in ('path_attributes', 'clear_mode_bits') for a in c['fix_data'])],
                         ids=lambda c: c['id'])
def test_a_path_fix_changes_what_its_check_reads(control):
    """Targets and the follow-the-link rule come from the check's own parameters, never a second copy."""
    for action in control['fix_data']:
        if action['kind'] in ('path_attributes', 'clear_mode_bits'):
            assert set(action) <= {'kind', 'bits', 'statoverride', 'others_dirs', 'outside_config_dir'}
    targets, follow = fix_targets(control)
    assert targets
    if control['evaluator'] == 'path_set':
        assert targets == control['params']['targets']
        assert follow is bool(control['params'].get('follow_links'))
    assert fix_targets(BY_ID['SM-FILE-05']) == (['aliases'], True)
    assert fix_targets(BY_ID['SM-FILE-06']) == (['maps'], True)
    assert fix_targets(BY_ID['SM-QUEUE-01']) == (['queue_mta'], False)


def test_audit_only_families_have_manual_fixes_only():
    for family in FAMILIES:
        kinds = {a['kind'] for c in CONTROLS if c['family'] == family for a in c['fix_data']}
        assert (kinds == {'manual'}) is (family in AUDIT_ONLY_FAMILIES), family


def test_expected_per_os_family_and_override():
    runas = BY_ID['SM-RUNAS-01']
    assert expected_for(runas, None) == {'user': None, 'group': None}
    assert expected_for(runas, 'Debian') == {'user': 'smmta', 'group': 'smmsp'}
    assert expected_for(runas, 'Debian', {'group': 'mail'}) == {'user': 'smmta', 'group': 'mail'}
    queue = BY_ID['SM-QUEUE-01']
    merged = expected_for(queue, 'Debian', {'mode': '0750'})
    assert merged['mode'] == '0750' and merged['owner'] == ['@MTAUser']
    assert queue['expected']['default']['mode'] == '0700'  # the catalogue itself is never changed


def test_fix_actions_fill_expected_values():
    assert fix_actions(BY_ID['SM-RUNAS-01'], {'user': 'smmta', 'group': 'smmsp'})[0]['value'] == 'smmta:smmsp'
    assert fix_actions(BY_ID['SM-RUNAS-01'], {'user': None, 'group': None})[0]['value'] is None
    assert fix_actions(BY_ID['SM-SAFE-02'], {'value': None})[0]['value'] == '/'
    assert fix_actions(BY_ID['SM-SAFE-02'], {'value': '/srv/mail'})[0]['value'] == '/srv/mail'
    path_fix = fix_actions(BY_ID['SM-QUEUE-01'], expected_for(BY_ID['SM-QUEUE-01'], 'Debian'))[0]
    assert path_fix['targets'] == ['queue_mta'] and path_fix['follow'] is False and path_fix['expected']['mode'] == '0700'
    entries = fix_actions(BY_ID['SM-STATOVR-01'], expected_for(BY_ID['SM-STATOVR-01'], 'Debian'))[0]['entries']
    assert entries['/usr/libexec/sendmail/sendmail'] == 'root smmsp 2755'


@pytest.mark.parametrize('include, exclude, wanted', [
    ([], [], FIRST_SET),
    (['SM-RUNAS-01'], [], ['SM-RUNAS-01']),
    (['queue'], [], ['SM-QUEUE-01', 'SM-QUEUE-02', 'SM-QUEUE-03']),
    (['msp'], [], ['SM-MSP-01', 'SM-SETGID-01', 'SM-FILE-03', 'SM-QUEUE-02']),
    (['privilege'], ['binaries'], ['SM-RUNAS-01', 'SM-RUNAS-02', 'SM-TRUST-01', 'SM-MSP-01']),
    ([], ['files', 'SM-PRIVDROP-01'], [i for i in FIRST_SET if not i.startswith(('SM-FILE', 'SM-CF')) and i != 'SM-PRIVDROP-01']),
])
def test_select(include, exclude, wanted):
    assert [c['id'] for c in select(include, exclude)] == wanted


def test_left_out_names_what_the_selection_leaves_out():
    assert left_out(select([], ['smtp'])) == [{'id': c['id'], 'title': c['title']} for c in CONTROLS if c['family'] == 'smtp']
    assert [item['id'] for item in left_out(select([], ['smtp']))] == ['SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-SMTP-04']
    assert left_out(select()) == []


def test_unknown_selectors():
    assert unknown_selectors(['queue', 'SM-NOPE-01', 'aliases', 'nothing']) == ['SM-NOPE-01', 'nothing']


def test_override_errors():
    assert override_errors({'SM-QUEUE-01': {'mode': '0750', 'owner': ['root']}}) == []
    assert override_errors({'SM-RUNAS-01': {'user': None}}) == []
    errors = override_errors({
        'SM-NOPE-01': {}, 'SM-QUEUE-01': {'mode': 488, 'colour': 'red', 'missing': 'maybe'}, 'SM-SAFE-01': 'safe',
        'SM-FILE-01': {'owner': 'root', 'group': 'root'}, 'SM-STATOVR-01': {'entries': {'/x': 'root 2755'}},
        'SM-RUNAS-01': {'user': 5},
    })
    assert errors == [
        'expected names SM-NOPE-01, which is no control id',
        'expected.SM-QUEUE-01.mode must be a quoted octal string such as "0644"',
        'expected.SM-QUEUE-01 has no key colour (known: group, ignore, missing, mode, owner, require)',
        'expected.SM-QUEUE-01.missing must be pass, fail or error',
        'expected.SM-SAFE-01 must be a dict of allowed',
        'expected.SM-FILE-01.owner must be a list of strings',
        'expected.SM-FILE-01.group must be a list of strings or null',
        'expected.SM-STATOVR-01.entries must be a dict of path: "owner group mode"',
        'expected.SM-RUNAS-01.user must be a string or null',
    ]
    assert override_errors({'SM-MSP-01': {'user': None}}) == ['expected.SM-MSP-01.user must be a string']


def test_user_controls_take_a_group_string_path_controls_a_list():
    assert override_errors({'SM-RUNAS-01': {'user': 'smmta', 'group': 'smmsp'}}) == []
    assert override_errors({'SM-RUNAS-01': {'group': ['smmsp']}}) == ['expected.SM-RUNAS-01.group must be a string or null']
    assert override_errors({'SM-QUEUE-01': {'group': 'smmsp'}}) == ['expected.SM-QUEUE-01.group must be a list of strings or null']


def test_describe_expected_words():
    assert describe_expected(BY_ID['SM-QUEUE-01'], expected_for(BY_ID['SM-QUEUE-01'], 'Debian')) == \
        'owner the MTA user (RunAsUser, else root); mode 0700 or stricter'
    assert describe_expected(BY_ID['SM-SETGID-01'], expected_for(BY_ID['SM-SETGID-01'], 'Debian')) == \
        'owner root; group smmsp; mode 2755 or stricter; bits 2000 set; bits 4000 not judged here'
    assert describe_expected(BY_ID['SM-FILE-07'], expected_for(BY_ID['SM-FILE-07'], None)).endswith('absent: pass')
    assert describe_expected(BY_ID['SM-SAFE-02'], {'value': '/srv'}) == 'SafeFileEnvironment=/srv'
    with pytest.raises(ValueError):
        describe_expected(dict(BY_ID['SM-SAFE-02'], evaluator='nope'), {})


def test_a_runasuser_without_a_group_is_set_alone():
    """sendmail_hardening_run_as_user: smmta gives RunAsUser=smmta (the user's own group), not "no value to set"."""
    control = BY_ID['SM-RUNAS-01']
    alone = fix_actions(control, expected_for(control, 'Debian', {'user': 'smmta', 'group': None}))
    both = fix_actions(control, expected_for(control, 'Debian', {'user': 'smmta', 'group': 'smmsp'}))
    assert [action['value'] for action in alone + both] == ['smmta', 'smmta:smmsp']


def test_a_self_signed_pair_asked_for_without_paths_goes_where_the_platform_layer_says():
    from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import SELF_SIGNED
    control = BY_ID['SM-TLS-03']
    assert expected_for(control, 'Debian', {'self_signed': True}) == dict(SELF_SIGNED, self_signed=True)
    named = {'self_signed': True, 'cert': '/etc/mail/tls/site.crt', 'key': None}
    assert expected_for(control, 'Debian', named) == named  # half a pair named: left for the plan to refuse
    assert expected_for(control, 'RedHat', {})['cert'] is None
