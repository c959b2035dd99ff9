# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' input, judged as their tasks will meet it: one sentence per problem, naming the variable."""

from __future__ import annotations

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._inputs import role_input_errors, tag_errors, unknown_ids, words


def test_a_list_given_as_one_string_is_read_as_its_words():
    assert words('SM-QUEUE-03, SM-SMTP-01') == ['SM-QUEUE-03', 'SM-SMTP-01']
    assert words(['smtp']) == ['smtp']
    assert words(True) is None
    assert words([1]) is None


def test_a_misspelled_or_unknown_control_id_as_a_tag_is_named():
    assert unknown_ids(['SM-SETGUID-01', 'setuid', 'site', 'SM-QUEUE-01', 'sm-queue-99']) == ['SM-SETGUID-01', 'sm-queue-99']
    assert tag_errors(['SM-QUEUE-99'], ['all']) == [
        '--tags names SM-QUEUE-99, which is no control id (docs/controls.md lists them)']
    assert tag_errors([], ['SM-QUEUE-99']) == [
        '--skip-tags names SM-QUEUE-99, which is no control id (docs/controls.md lists them)']


def test_tags_of_the_users_own_playbook_pass():
    assert tag_errors(['all', 'site', 'setuid', 'SM-SETUID-01'], ['never', 'smtp']) == []


@pytest.mark.parametrize('value, sentence', [
    (True, "sendmail_hardening_run_as_user must be a user or user:group (or '' to leave RunAsUser alone, null for "
           "the distribution's MTA user), not a boolean (true)"),
    (1001, "sendmail_hardening_run_as_user must be a user or user:group (or '' to leave RunAsUser alone, null for "
           "the distribution's MTA user), not a number (1001)"),
    ('smmta:smmsp:x', "sendmail_hardening_run_as_user must be a user or user:group, not 'smmta:smmsp:x'"),
    ('smmta:', "sendmail_hardening_run_as_user must be a user or user:group, not 'smmta:'"),
])
def test_run_as_user_of_a_wrong_kind_is_one_sentence(value, sentence):
    assert role_input_errors('hardening', {'sendmail_hardening_run_as_user': value}) == [sentence]


@pytest.mark.parametrize('value', [None, '', 'smmta', 'smmta:smmsp'])
def test_run_as_user_as_documented_passes(value):
    assert role_input_errors('hardening', {'sendmail_hardening_run_as_user': value}) == []


def test_exclude_as_a_string_passes_and_its_unknown_words_are_named():
    assert role_input_errors('hardening', {'sendmail_hardening_exclude': 'SM-QUEUE-03, SM-SMTP-01'}) == []
    assert role_input_errors('hardening', {'sendmail_hardening_exclude': 'SM-QUEUE-03, nosuch'}) == [
        'sendmail_hardening_exclude names nosuch, which is no control id, family or tag']
    assert role_input_errors('audit', {'sendmail_audit_include': {'a': 1}}) == [
        'sendmail_audit_include must be a list of control ids, families or tags, not a dict']


def test_expected_values_are_checked_under_the_variables_name():
    assert role_input_errors('audit', {'sendmail_audit_expected': {'SM-QUEUE-01': {'mode': 750}}}) == [
        'sendmail_audit_expected.SM-QUEUE-01.mode must be a quoted octal string such as "0644"']
    assert role_input_errors('audit', {'sendmail_audit_expected': 'x'}) == [
        'sendmail_audit_expected must be a dict of control ids, not a str']


def test_a_waiver_with_a_date_that_does_not_exist_or_an_unknown_id_is_named():
    errors = role_input_errors('audit', {'sendmail_audit_waivers': [
        {'id': 'SM-SETUID-01', 'reason': 'procmail', 'expires': '2027-02-30'},
        {'id': 'SM-NOPE-01', 'reason': 'x', 'expires': '2027-01-01'},
    ]})
    assert errors == ['sendmail_audit_waivers: waiver 1 (SM-SETUID-01): expires must be a date as YYYY-MM-DD, not 2027-02-30',
                      'sendmail_audit_waivers: waiver 2 names SM-NOPE-01, which is no control id']


def test_waivers_of_the_wrong_shape_are_named():
    assert role_input_errors('audit', {'sendmail_audit_waivers': 'SM-SETUID-01'}) == [
        'sendmail_audit_waivers must be a list of waivers (dicts of id, reason, expires, hosts), not a str']
    assert role_input_errors('audit', {'sendmail_audit_waivers': [{'id': 'SM-SETUID-01', 'reason': 'r', 'until': 'x'}]}) == [
        'sendmail_audit_waivers: waiver 1 (SM-SETUID-01) has no key until (known: id, hosts, reason, expires)']
    assert role_input_errors('audit', {'sendmail_audit_waivers': [{'id': 'SM-SETUID-01', 'reason': 'r', 'expires': '2027-06-30'}]}) == []


def test_tags_are_checked_with_the_variables():
    assert role_input_errors('audit', {}, ['SM-QUEUE-99'], ()) == [
        '--tags names SM-QUEUE-99, which is no control id (docs/controls.md lists them)']
