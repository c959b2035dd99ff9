# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.mailsec.sendmail.plugins.module_utils import _engine, _read_state
from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_drift, sendmail_harden

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures')

# sendmail stand-in: -d0.10 prints the release's output (configs under the test directory); -C checks a candidate.
FAKE_SENDMAIL = r'''#!%(python)s
import sys
if '-C' in sys.argv:
    text = open(sys.argv[sys.argv.index('-C') + 1]).read()
    if 'RunAsUser=nosuch' in text:
        sys.stdout.write('readcf: option RunAsUser: unknown user nosuch\n')
        sys.exit(70)
    if '\nZfoo\n' in text:
        sys.stdout.write('%%s: line 1868: unknown configuration line "Zfoo"\n' %% sys.argv[sys.argv.index('-C') + 1])
        sys.exit(70)
    sys.stdout.write('root... deliverable: mailer local, user root\n')
    sys.exit(0)
sys.stdin.read()
sys.stdout.write(open('%(d0)s').read())
'''

# m4 stand-in: the release's sendmail.cf with the options of the defines it knows set; an unknown FEATURE fails.
FAKE_M4 = r'''#!%(python)s
import re, sys
text = sys.stdin.read()
if 'no_such_feature' in text:
    sys.stderr.write("m4:stdin:100: cannot open `no_such_feature.m4': No such file or directory\n")
    sys.exit(1)
names = {'confRUN_AS_USER': 'RunAsUser', 'confDONT_BLAME_SENDMAIL': 'DontBlameSendmail', 'confSAFE_FILE_ENV': 'SafeFileEnvironment',
         'confMAX_DAEMON_CHILDREN': 'MaxDaemonChildren', 'confCONNECTION_RATE_THROTTLE': 'ConnectionRateThrottle',
         'confMAX_MESSAGE_SIZE': 'MaxMessageSize', 'confMAX_RCPTS_PER_MESSAGE': 'MaxRecipientsPerMessage',
         'confMAX_HEADERS_LENGTH': 'MaxHeadersLength'}
cf = open('%(cf)s').read()
for name, value in re.findall(r"^define\(`(\w+)',\s*`([^']*)'\)", text, re.M):
    if name in names:
        option = names[name]
        cf, count = re.subn(r'^#?O %%s=.*$' %% option, 'O %%s=%%s' %% (option, value), cf, flags=re.M)
        if not count:
            cf += 'O %%s=%%s\n' %% (option, value)
sys.stdout.write(cf)
'''


def run_module(module, capsys, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit) as leaving:
        module.main()
    result = json.loads(capsys.readouterr().out)
    result['rc'] = leaving.value.code
    return result


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A Debian bookworm sendmail (configs, .mc files) under tmp_path, with stand-ins for sendmail and m4."""
    mail = tmp_path / 'mail'
    mail.mkdir()
    with open(os.path.join(FIXTURES, 'bookworm', 'd0.10.txt'), encoding='utf-8') as handle:
        (tmp_path / 'd0.txt').write_text(handle.read().replace('/etc/mail/', '%s/' % mail))
    # sendmail's m4 files, where the .mc files include them: the .cf files can be rebuilt
    (tmp_path / 'cf' / 'm4').mkdir(parents=True)
    (tmp_path / 'cf' / 'm4' / 'cf.m4').write_text('dnl\n')
    for name in ('sendmail.cf', 'submit.cf', 'sendmail.mc', 'submit.mc'):
        with open(os.path.join(FIXTURES, 'bookworm', name), encoding='utf-8') as handle:
            (mail / name).write_text(handle.read().replace('/usr/share/sendmail/cf/m4/cf.m4', str(tmp_path / 'cf/m4/cf.m4')))
    shutil.copy(str(mail / 'sendmail.cf'), str(tmp_path / 'original.cf'))
    tools = tmp_path / 'bin'
    tools.mkdir()
    values = {'python': sys.executable, 'd0': tmp_path / 'd0.txt', 'cf': tmp_path / 'original.cf'}
    for name, text in (('sendmail', FAKE_SENDMAIL), ('m4', FAKE_M4)):
        (tools / name).write_text(text % values)
        (tools / name).chmod(0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (tools, os.environ.get('PATH', '')))
    users = {'root': 'root', 'smmta': 'smmta', 'smmsp': 'smmsp'}
    monkeypatch.setattr(_engine, 'host_accounts', lambda: (users, {'root', 'smmta', 'smmsp'}))
    return {'binary': str(tools / 'sendmail'), 'mail': mail, 'tools': tools, 'root': tmp_path}


@pytest.fixture
def daemon(host):
    """A process named as Debian's MTA daemon is (a copy of sleep), whose pid the pid file sendmail -d0.10 names holds."""
    program = host['root'] / 'sendmail-mta'
    shutil.copy(shutil.which('sleep'), str(program))
    process = subprocess.Popen([str(program), '300'])
    pid_file = host['root'] / 'sendmail.pid'
    pid_file.write_text('%d\n' % process.pid)
    d0 = host['root'] / 'd0.txt'
    d0.write_text(d0.read_text().replace('/var/run/sendmail/mta/sendmail.pid', str(pid_file)))
    yield pid_file
    process.kill()
    process.wait()


def base_args(host, **more):
    return dict({'binary': host['binary'], 'os_family': 'Debian', 'include': ['safety']}, **more)


def snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(str(directory)))}


def test_host_without_sendmail_is_skipped(capsys, tmp_path):
    result = run_module(sendmail_harden, capsys, {'binary': str(tmp_path / 'sendmail')})
    assert result['rc'] == 0 and result['changed'] is False and result['skipped'] is True
    assert result['msg'] == 'sendmail is not installed'
    assert result['changed_controls'] == [] and result['results'] == []


def test_a_daemon_without_its_program_fails_instead_of_skipping(capsys, tmp_path, nowhere_else):
    pid = nowhere_else / '123'
    pid.mkdir()
    (pid / 'status').write_text('Name:\tsendmail-mta\nPPid:\t1\nUid:\t0\t0\t0\t0\n')
    (pid / 'cmdline').write_bytes(b'sendmail: MTA: accepting connections\0')
    (pid / 'exe').symlink_to('/usr/lib/sm.bin/sendmail (deleted)')
    result = run_module(sendmail_harden, capsys, {'binary': str(tmp_path / 'sendmail')})
    assert result['failed'] is True and result['changed'] is False and 'skipped' not in result
    assert result['msg'] == ('a sendmail daemon runs (pid 123, /usr/lib/sm.bin/sendmail (deleted)) but %s does not exist: '
                             'give the program in binary, or reinstall sendmail; nothing was changed.' % (tmp_path / 'sendmail'))


def test_bad_options_give_one_error(capsys, tmp_path):
    result = run_module(sendmail_harden, capsys, {'binary': str(tmp_path / 'sendmail'), 'include': ['nosuch'],
                                                  'expected': {'SM-QUEUE-01': {'mode': 700}}})
    assert result['failed'] is True
    assert result['msg'] == ('include names nosuch, which is no control id, family or tag; '
                             'expected.SM-QUEUE-01.mode must be a quoted octal string such as "0644".')


def test_check_mode_returns_the_plan_and_writes_nothing(capsys, host, daemon):
    before = snapshot(host['mail'])
    drift = run_module(sendmail_drift, capsys, {'binary': host['binary'], 'os_family': 'Debian', 'include': ['safety'],
                                                'probe_kernel': False})
    failing = sorted(item['id'] for item in drift['findings'] if item['status'] in ('fail', 'error'))
    assert failing == ['SM-SAFE-01']
    result = run_module(sendmail_harden, capsys, base_args(host), check_mode=True, diff=True)
    assert result['rc'] == 0 and result['changed'] is True
    assert result['changed_controls'] == failing
    assert result['restart_needed'] is True and result['cf_changed'] == [str(host['mail'] / 'sendmail.cf')]
    assert result['cf_source'] == {'mta': 'mc'}
    assert snapshot(host['mail']) == before
    headers = [item['before_header'] for item in result['diff']]
    assert headers == ['%s (SM-SAFE-01)' % (host['mail'] / 'sendmail.mc'),
                       '%s (options, rebuilt from the .mc)' % (host['mail'] / 'sendmail.cf')]
    assert "define(`confDONT_BLAME_SENDMAIL', `safe')dnl" in result['diff'][0]['after']
    assert result['diff'][1]['after'] == 'O DontBlameSendmail=safe\n'
    (planned,) = result['plan']
    assert (planned['id'], planned['kind'], planned['phase'], planned['option'], planned['after']) == (
        'SM-SAFE-01', 'cf_option', 'config', 'DontBlameSendmail', 'safe')
    found = {item['id']: item for item in result['results']}
    assert found['SM-SAFE-02'] == {'id': 'SM-SAFE-02', 'status_before': 'pass', 'status_after': None, 'changed': False,
                                   'steps': [], 'details': 'passes; left alone'}
    assert 'drift_after' not in result
    assert result['daemon'] == {'binary': host['binary'], 'pid_file': str(daemon), 'service': result['daemon']['service'],
                                'running': True, 'restart_owed': False}


def test_fix_then_nothing_left(capsys, host):
    check = run_module(sendmail_harden, capsys, base_args(host), check_mode=True)
    result = run_module(sendmail_harden, capsys, base_args(host), diff=True)
    assert result['rc'] == 0 and result['changed'] is True, result.get('msg')
    assert result['changed_controls'] == check['changed_controls'] == ['SM-SAFE-01'] and result['drift_after'] == []
    assert 'O DontBlameSendmail=safe' in (host['mail'] / 'sendmail.cf').read_text()
    assert "define(`confDONT_BLAME_SENDMAIL', `safe')dnl" in (host['mail'] / 'sendmail.mc').read_text()
    again = run_module(sendmail_harden, capsys, base_args(host))
    assert again['changed'] is False and again['changed_controls'] == [] and again['cf_changed'] == [] and again['plan'] == []
    assert run_module(sendmail_harden, capsys, base_args(host), check_mode=True)['changed'] is False


def hand_edit(host):
    cf = host['mail'] / 'sendmail.cf'
    cf.write_text(cf.read_text().replace('O QueueDirectory=', '# site limits\nO MaxMessageSize=5000000\nO QueueDirectory=', 1))


def test_a_hand_edited_cf_keeps_its_lines(capsys, host):
    hand_edit(host)
    check = run_module(sendmail_harden, capsys, base_args(host), check_mode=True)
    assert check['cf_source'] == {'mta': 'cf'} and check['changed_controls'] == ['SM-SAFE-01']
    result = run_module(sendmail_harden, capsys, base_args(host), diff=True)
    assert result['changed_controls'] == ['SM-SAFE-01'] and result['drift_after'] == []
    text = (host['mail'] / 'sendmail.cf').read_text()
    assert 'O MaxMessageSize=5000000\n' in text and 'O DontBlameSendmail=safe\n' in text
    assert "define(`confDONT_BLAME_SENDMAIL', `safe')dnl" in (host['mail'] / 'sendmail.mc').read_text()
    assert result['diff'][1]['before_header'].endswith('(options, edited in place)')
    assert run_module(sendmail_harden, capsys, base_args(host))['changed'] is False


def append_define(host, name, value):
    """A define the administrator appended to sendmail.mc and has not built yet."""
    mc = host['mail'] / 'sendmail.mc'
    mc.write_text(mc.read_text() + "define(`%s',`%s')\n" % (name, value))


def test_a_pending_stricter_define_survives(capsys, host, daemon):
    """The .mc limits messages to 5000000, the .cf (not rebuilt) sets no limit: the .cf gets the bound in place, the
    .mc keeps the stricter decision, the summary says so, check mode promises exactly that, and SM-CF-01 goes on
    reporting the define still to build."""
    append_define(host, 'confMAX_MESSAGE_SIZE', '5000000')
    args = base_args(host, include=['SM-DOS-01', 'SM-CF-01'])
    before = snapshot(host['mail'])
    check = run_module(sendmail_harden, capsys, args, check_mode=True)
    assert snapshot(host['mail']) == before
    result = run_module(sendmail_harden, capsys, args, diff=True)
    assert result['rc'] == 0 and result['cf_source'] == check['cf_source'] == {'mta': 'cf'}
    assert result['changed_controls'] == check['changed_controls'] == ['SM-DOS-01'] and result['manual'] == ['SM-CF-01']
    assert [(s['option'], s['after'], s['why'], s.get('pending')) for s in result['plan']] == [
        (s['option'], s['after'], s['why'], s.get('pending')) for s in check['plan']]
    (size,) = [item for item in result['plan'] if item['option'] == 'MaxMessageSize']
    assert size['after'] == '26214400' and size['pending']['kept'] is True and '5000000' in size['why']
    mc = (host['mail'] / 'sendmail.mc').read_text()
    assert "define(`confMAX_MESSAGE_SIZE',`5000000')\n" in mc and '26214400' not in mc
    assert "define(`confMAX_DAEMON_CHILDREN', `40')dnl" in mc  # the other limits go into the .mc as ever
    assert 'O MaxMessageSize=26214400\n' in (host['mail'] / 'sendmail.cf').read_text()
    said = '; by hand: SM-CF-01; defines pending in sendmail.mc: confMAX_MESSAGE_SIZE 5000000 kept.'
    assert check['msg'] == '1 control to fix; restart sendmail to use the new sendmail.cf' + said
    assert result['msg'] == '1 control fixed; restart sendmail to use the new sendmail.cf' + said
    (pending,) = result['drift_after']
    assert pending['id'] == 'SM-CF-01' and 'O MaxMessageSize=5000000' in pending['actual']
    again = run_module(sendmail_harden, capsys, args)
    assert again['changed'] is False and again['manual'] == ['SM-CF-01']
    assert "define(`confMAX_MESSAGE_SIZE',`5000000')\n" in (host['mail'] / 'sendmail.mc').read_text()


def test_a_pending_define_the_plan_replaces_is_said_with_both_values(capsys, host):
    append_define(host, 'confMAX_MESSAGE_SIZE', '0')
    args = base_args(host, include=['SM-DOS-01'])
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, args, check_mode=check_mode)
        (size,) = [item for item in result['plan'] if item['option'] == 'MaxMessageSize']
        assert size['why'] == ("MaxMessageSize is unset; %s's define confMAX_MESSAGE_SIZE 0, not built yet, does not meet "
                               'SM-DOS-01: replaced by 26214400' % (host['mail'] / 'sendmail.mc'))
        assert result['msg'].endswith('; defines pending in sendmail.mc: confMAX_MESSAGE_SIZE 0 replaced by 26214400.')
        warning = 'SM-DOS-01: the define confMAX_MESSAGE_SIZE 0 of %s, not built yet, does not meet it: %s by 26214400.' % (
            host['mail'] / 'sendmail.mc', 'would be replaced' if check_mode else 'replaced')
        assert any(warning in str(item) for item in result['warnings'])
    assert "define(`confMAX_MESSAGE_SIZE',`26214400')\n" in (host['mail'] / 'sendmail.mc').read_text()


def test_cf_source_mc_refuses_to_drop_hand_edits(capsys, host):
    hand_edit(host)
    before = snapshot(host['mail'])
    result = run_module(sendmail_harden, capsys, base_args(host, cf_source='mc'))
    assert result['failed'] is True and result['changed'] is False
    assert 'O MaxMessageSize=5000000' in result['msg'] and result['msg'].endswith('nothing was changed.')
    assert snapshot(host['mail']) == before


def test_without_m4_the_cf_is_edited_in_place(capsys, host):
    (host['tools'] / 'm4').unlink()
    (host['root'] / 'cf' / 'm4' / 'cf.m4').unlink()  # and no sendmail-cf files
    result = run_module(sendmail_harden, capsys, base_args(host))
    assert result['cf_source'] == {'mta': 'cf'} and result['changed_controls'] == ['SM-SAFE-01'] and result['drift_after'] == []
    assert 'O DontBlameSendmail=safe\n' in (host['mail'] / 'sendmail.cf').read_text()


def test_a_manual_drift_is_never_a_change(capsys, host):
    """A control only a person can fix is reported apart, in check mode and for real alike."""
    cf = host['mail'] / 'sendmail.cf'
    cf.write_text(cf.read_text().replace('O TrustedUser=smmta', 'O TrustedUser=root\nO TrustedUser=alice'))
    args = base_args(host, include=['SM-TRUST-01'], expected={'SM-TRUST-01': {'allowed': ['smmta']}})
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, args, check_mode=check_mode)
        assert result['changed'] is False and result['changed_controls'] == [] and result['plan'] == []
        assert result['manual'] == ['SM-TRUST-01'] and result['not_done'][0]['kind'] == 'manual'
        assert any('Not done by the hardening: SM-TRUST-01' in str(item) for item in result['warnings'])


def test_a_rejected_mc_changes_nothing(capsys, host):
    mc = host['mail'] / 'sendmail.mc'
    mc.write_text(mc.read_text().replace('MAILER_DEFINITIONS', "FEATURE(`no_such_feature')dnl\nMAILER_DEFINITIONS", 1))
    before = snapshot(host['mail'])
    result = run_module(sendmail_harden, capsys, base_args(host, cf_source='mc'))
    assert result['failed'] is True and result['changed'] is False
    assert 'm4 could not build %s from %s' % (host['mail'] / 'sendmail.cf', mc) in result['msg']
    assert snapshot(host['mail']) == before


def test_an_unknown_run_as_user_changes_nothing(capsys, host):
    before = snapshot(host['mail'])
    result = run_module(sendmail_harden, capsys, base_args(host, include=['SM-RUNAS-01', 'safety'],
                                                           expected={'SM-RUNAS-01': {'user': 'nosuch'}}))
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'] == ('RunAsUser nosuch:smmsp for %s (SM-RUNAS-01): user nosuch does not exist on this host; create it '
                             'or give another user in expected.SM-RUNAS-01; nothing was changed.' % (host['mail'] / 'sendmail.cf'))
    assert snapshot(host['mail']) == before


def test_a_user_the_host_lost_is_a_clear_error(capsys, host):
    """RunAsUser names a user that no longer exists: the queue cannot be given to it."""
    queue = host['root'] / 'mqueue'
    queue.mkdir(mode=0o755)
    cf = host['mail'] / 'sendmail.cf'
    cf.write_text(cf.read_text().replace('#O RunAsUser=sendmail', 'O RunAsUser=ghost').replace(
        'O QueueDirectory=/var/spool/mqueue', 'O QueueDirectory=%s' % queue))
    before = snapshot(host['mail'])
    result = run_module(sendmail_harden, capsys, base_args(host, include=['SM-QUEUE-01']))
    assert result['failed'] is True and result['changed'] is False
    assert 'to user ghost, which does not exist on this host' in result['msg'] and 'Traceback' not in result['msg']
    assert snapshot(host['mail']) == before and os.stat(str(queue)).st_mode & 0o777 == 0o755


def test_sendmail_rejecting_the_new_cf_changes_nothing(capsys, host, monkeypatch):
    monkeypatch.setattr(_engine, 'host_accounts', lambda: ({'nosuch': 'smmsp'}, {'smmsp'}))
    before = snapshot(host['mail'])
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, base_args(host, include=['SM-RUNAS-01'],
                                                               expected={'SM-RUNAS-01': {'user': 'nosuch'}}), check_mode=check_mode)
        assert result['failed'] is True and str(host['mail'] / 'sendmail.cf') in result['msg']
    assert snapshot(host['mail']) == before


def test_a_daemon_older_than_its_cf_is_restarted(capsys, host, daemon, journal_dir):
    """After a run cut short once the .cf was installed, nothing is left to change but the daemon."""
    run_module(sendmail_harden, capsys, base_args(host))
    pid_file = daemon
    os.utime(str(pid_file), (1, 1))
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, base_args(host), check_mode=check_mode)
        assert result['changed'] is False and result['plan'] == [] and result['restart_needed'] is True
        assert 'started before sendmail.cf was last written' in result['msg']
    # The restart the first run asked for is owed until the role's handlers, the daemon running again, take the mark away.
    os.utime(str(pid_file))
    mark = journal_dir / 'restart-pending'
    assert mark.exists()
    owed = run_module(sendmail_harden, capsys, base_args(host))
    assert owed['restart_needed'] is True and owed['msg'].endswith('an earlier run did not finish its restart of sendmail: restart it.')
    mark.unlink()
    assert run_module(sendmail_harden, capsys, base_args(host))['restart_needed'] is False


def test_a_stopped_daemon_stays_stopped(capsys, host):
    """No sendmail runs (the pid file names none): the new .cf is installed, nothing asks for a restart, and the
    summary says when it takes effect."""
    said = 'sendmail is stopped: the new sendmail.cf takes effect when it is next started'
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, base_args(host), check_mode=check_mode)
        assert result['changed_controls'] == ['SM-SAFE-01'] and result['cf_changed'] == [str(host['mail'] / 'sendmail.cf')]
        assert result['daemon']['running'] is False and result['restart_needed'] is False
        assert said in result['msg']
    assert 'O DontBlameSendmail=safe' in (host['mail'] / 'sendmail.cf').read_text()


def test_a_stale_pid_file_is_no_running_daemon(capsys, host, daemon):
    """The pid file names a live process that is not sendmail (its number reused): the daemon is stopped."""
    daemon.write_text('%d\n' % os.getpid())
    result = run_module(sendmail_harden, capsys, base_args(host), check_mode=True)
    assert result['daemon']['running'] is False and result['restart_needed'] is False


def test_an_installed_cf_sendmail_rejects_is_refused_before_any_change(capsys, host):
    """The host's own sendmail.cf has a line sendmail rejects: refused in check mode and for real, and the group-
    writable configuration directory the same run would fix first is left as it was."""
    cf = host['mail'] / 'sendmail.cf'
    cf.write_text(cf.read_text() + 'Zfoo\n')
    os.chmod(str(host['mail']), 0o775)
    before = snapshot(host['mail'])
    args = base_args(host, include=['SM-FILE-01', 'SM-SAFE-01'])
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, args, check_mode=check_mode)
        assert result['failed'] is True and result['changed'] is False, result
        assert result['msg'].startswith('sendmail rejects the installed %s (exit 70: ' % cf), result['msg']
        assert 'unknown configuration line "Zfoo"' in result['msg'] and result['msg'].endswith('nothing was changed.')
    assert snapshot(host['mail']) == before and os.stat(str(host['mail'])).st_mode & 0o777 == 0o775


# --- what one fix needs of another's, and waivers ---------------------------------------------------------


@pytest.fixture
def setuid_host(host, monkeypatch):
    """The host's sendmail program set-user-id root and not set-group-id (4755 root:root; the group the
    set-group-id control wants is root here, the test host having no smmsp). Only that program counts as
    sendmail's, and no statoverride is read: nothing of the machine itself is judged or changed."""
    os.chmod(host['binary'], 0o4755)
    monkeypatch.setattr(_read_state, 'candidate_paths', lambda extra=(), list_globs=(): sorted(extra))
    monkeypatch.setattr(_read_state, 'read_statoverrides', lambda: [])
    return host


def setuid_args(host, **more):
    return base_args(host, **dict({'include': ['setuid'], 'statoverride': False,
                                   'expected': {'SM-SETGID-01': {'group': ['root']}}}, **more))


def test_dropping_set_user_id_takes_the_set_group_id_too(capsys, setuid_host):
    """--tags setuid on a 4755 binary: without its set-group-id, every ordinary user's submission would fail."""
    taken = ('SM-SETGID-01 taken too: dropping the set-user-id bit of %s needs its set-group-id root for mail submission'
             % setuid_host['binary'])
    check = run_module(sendmail_harden, capsys, setuid_args(setuid_host), check_mode=True)
    assert check['changed_controls'] == ['SM-SETGID-01', 'SM-SETUID-01'] and check['notes'] == [taken]
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o4755
    result = run_module(sendmail_harden, capsys, setuid_args(setuid_host))
    assert result['rc'] == 0 and result['changed_controls'] == check['changed_controls'] and result['notes'] == [taken]
    assert any(taken in str(item) for item in result['warnings'])
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o2755 and result['drift_after'] == []
    # The set-group-id bit is given before the set-user-id bit is taken: the binary is never without both.
    assert [(item['id'], item['after']['mode']) for item in result['plan']] == [('SM-SETGID-01', '6755'), ('SM-SETUID-01', '2755')]
    assert [item['id'] for item in result['results']] == ['SM-SETUID-01', 'SM-SETGID-01']
    assert result['results'][1]['details'] == taken
    assert run_module(sendmail_harden, capsys, setuid_args(setuid_host))['changed'] is False


def test_a_binary_that_keeps_its_set_group_id_needs_nothing_more(capsys, setuid_host):
    os.chmod(setuid_host['binary'], 0o6755)
    result = run_module(sendmail_harden, capsys, setuid_args(setuid_host))
    assert result['changed_controls'] == ['SM-SETUID-01'] and result['notes'] == []
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o2755


@pytest.mark.parametrize('more, said', [
    ({'exclude': ['SM-SETGID-01']}, 'SM-SETGID-01 is excluded (exclude: SM-SETGID-01)'),
    ({'waivers': [{'id': 'SM-SETGID-01', 'reason': 'vendor build', 'expires': '2999-12-31'}]},
     'SM-SETGID-01 is waived until 2999-12-31: vendor build'),
])
def test_a_needed_fix_left_out_holds_the_step_back(capsys, setuid_host, more, said):
    why = ('held back: dropping the set-user-id bit of %s needs its set-group-id root for mail submission, and %s'
           % (setuid_host['binary'], said))
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, setuid_args(setuid_host, **more), check_mode=check_mode)
        assert result['rc'] == 0 and result['changed'] is False and result['changed_controls'] == [] and result['plan'] == []
        assert [(item['id'], item['kind'], item['target'], item['why']) for item in result['not_done']] == [
            ('SM-SETUID-01', 'held', setuid_host['binary'], why)]
        assert result['manual'] == ['SM-SETUID-01'] and 'held back: SM-SETUID-01' in result['msg']
        assert any(why in str(item) for item in result['warnings'])
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o4755


def test_a_waived_control_is_neither_drift_nor_changed(capsys, host):
    before = snapshot(host['mail'])
    waivers = [{'id': 'SM-SAFE-01', 'hosts': 'mail*', 'reason': 'a site map in a group-writable directory',
                'expires': '2999-12-31'}]
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, base_args(host, waivers=waivers, host_name='mail1'), check_mode=check_mode)
        assert result['rc'] == 0 and result['changed'] is False and result['changed_controls'] == [] and result['plan'] == []
        found = {item['id']: item for item in result['results']}['SM-SAFE-01']
        assert found['status_before'] == 'waived' and found['changed'] is False
        assert found['status_after'] == (None if check_mode else 'waived')
        assert [(item['id'], item['kind'], item['reason'], item['expires'], item['why']) for item in result['not_done']] == [
            ('SM-SAFE-01', 'waived', 'a site map in a group-writable directory', '2999-12-31',
             'waived until 2999-12-31: a site map in a group-writable directory')]
        assert found['details'] == 'waived until 2999-12-31: a site map in a group-writable directory'
        assert result['manual'] == [] and result.get('drift_after', []) == []
        assert result['msg'] == 'Nothing changed; waived: SM-SAFE-01.'
        assert any('SM-SAFE-01: waived until 2999-12-31' in str(item) for item in result['warnings'])
    assert snapshot(host['mail']) == before
    # Another host's waiver does not apply here.
    other = run_module(sendmail_harden, capsys, base_args(host, waivers=waivers, host_name='relay1'), check_mode=True)
    assert other['changed_controls'] == ['SM-SAFE-01']


def test_an_expired_waiver_does_not_apply_and_is_said(capsys, host):
    waivers = [{'id': 'SM-SAFE-01', 'reason': 'until the maps move', 'expires': '2020-01-31'}]
    result = run_module(sendmail_harden, capsys, base_args(host, waivers=waivers))
    assert result['changed_controls'] == ['SM-SAFE-01'] and result['drift_after'] == []
    note = 'The waiver of SM-SAFE-01 (until the maps move) expired on 2020-01-31: it no longer applies'
    assert result['notes'] == [note] and any(note in str(item) for item in result['warnings'])


def test_invalid_waivers_fail_before_anything_is_read(capsys, tmp_path):
    waivers = [{'id': 'SM-NOSUCH-01', 'reason': 'x'}, {'id': 'SM-SAFE-01', 'reason': ' ', 'expires': '31.12.2026'}]
    result = run_module(sendmail_harden, capsys, {'binary': str(tmp_path / 'sendmail'), 'waivers': waivers})
    assert result['failed'] is True
    assert result['msg'] == ('waiver 1 names SM-NOSUCH-01, which is no control id; waiver 2 (SM-SAFE-01) needs a reason; '
                             'waiver 2 (SM-SAFE-01): expires must be a date as YYYY-MM-DD, not 31.12.2026.')


def test_run_as_user_is_held_back_where_its_queue_is_left_out(capsys, host):
    """RunAsUser would leave the MTA a queue it cannot use (root's): with SM-QUEUE-01 excluded, RunAsUser waits,
    and no .cf is rebuilt for it."""
    queue = host['root'] / 'mqueue'
    queue.mkdir(mode=0o700)
    cf = host['mail'] / 'sendmail.cf'
    cf.write_text(cf.read_text().replace('O QueueDirectory=/var/spool/mqueue', 'O QueueDirectory=%s' % queue))
    args = base_args(host, include=['SM-RUNAS-01'], exclude=['queue'])
    result = run_module(sendmail_harden, capsys, args, check_mode=True)
    assert result['rc'] == 0 and result['changed'] is False and result['plan'] == [] and result['cf_changed'] == []
    assert [(item['id'], item['kind'], item['target'], item['why']) for item in result['not_done']] == [
        ('SM-RUNAS-01', 'held', str(queue), 'held back: the MTA runs as smmta once RunAsUser is set, and must own its queue '
         '%s, and SM-QUEUE-01 is excluded (exclude: queue)' % queue)]
    assert result['msg'] == 'Nothing changed; held back: SM-RUNAS-01.'


def test_a_link_planted_in_the_client_queue_is_refused_and_never_counted_as_fixed(capsys, host):
    """qf... -> a file outside the queue: SM-QUEUE-03 fails naming it; the hardening refuses it on every run and says
    it is left to do by hand, and the file it points at is untouched."""
    queues = {'mta': host['root'] / 'mqueue', 'msp': host['root'] / 'mqueue-client'}
    for config, queue in queues.items():
        queue.mkdir()
        name = 'sendmail.cf' if config == 'mta' else 'submit.cf'
        path = host['mail'] / name
        text = path.read_text().replace('/var/spool/%s\n' % queue.name, '%s\n' % queue)
        path.write_text(re.sub(r'^#?O QueueFileMode=.*$', 'O QueueFileMode=0600', text, flags=re.M))  # hardened before
    secret = host['root'] / 'shadow'
    secret.write_text('root:x:0:\n')
    secret.chmod(0o640)
    (queues['msp'] / 'qfEVIL').symlink_to(secret)
    drift = run_module(sendmail_drift, capsys, {'binary': host['binary'], 'os_family': 'Debian', 'include': ['SM-QUEUE-03'],
                                                'probe_kernel': False})
    assert drift['findings'][0]['status'] == 'fail'
    assert drift['findings'][0]['actual'] == '%s is a symbolic link to %s' % (queues['msp'] / 'qfEVIL', secret)
    for check_mode in (True, False, False):
        result = run_module(sendmail_harden, capsys, base_args(host, include=['SM-QUEUE-03']), check_mode=check_mode)
        assert result['rc'] == 0 and result['changed'] is False and result['changed_controls'] == []
        assert result['manual'] == ['SM-QUEUE-03']
        assert [(item['id'], item['path']) for item in result['refused']] == [('SM-QUEUE-03', str(queues['msp'] / 'qfEVIL'))]
        assert 'symbolic link' in result['refused'][0]['reason']
        assert result['msg'] == 'Nothing changed; by hand: SM-QUEUE-03.'
        if not check_mode:
            assert [item['id'] for item in result['drift_after']] == ['SM-QUEUE-03']
    assert os.stat(str(secret)).st_mode & 0o7777 == 0o640 and (queues['msp'] / 'qfEVIL').is_symlink()


# --- the journal: roll-back, completion after a kill, undo ----------------------------------------------------


def journal_of(directory) -> dict:
    return json.loads((directory / 'journal.json').read_text())


def test_a_failed_step_rolls_the_run_back(capsys, setuid_host, journal_dir, monkeypatch):
    """The second of two steps fails having changed nothing: the first is undone, the binary is as it was, and the
    result says so."""
    from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_kinds
    real = _apply_kinds.KINDS['path']['apply']
    calls = []

    def second_fails(item, context):
        calls.append(item['target'])
        if len(calls) == 2:
            return {'changed': False, 'refused': None, 'error': 'disk on fire'}
        return real(item, context)
    monkeypatch.setitem(_apply_kinds.KINDS['path'], 'apply', second_fails)
    result = run_module(sendmail_harden, capsys, setuid_args(setuid_host))
    assert result['failed'] is True
    assert result['msg'] == 'Some fixes could not be made: disk on fire. The run was rolled back (1 step undone), the host is as it was.'
    assert result['rolled_back'] == [{'id': 'SM-SETGID-01', 'kind': 'path', 'target': setuid_host['binary']}]
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o4755
    assert journal_of(journal_dir)['status'] == 'rolled_back'
    assert not (journal_dir / 'restart-pending').exists()


def killed_after_first_step(capsys, setuid_host, journal_dir) -> None:
    """The host and journal of a run killed after its first step: the set-group-id bit given, the second step planned."""
    run_module(sendmail_harden, capsys, setuid_args(setuid_host))
    journal = journal_of(journal_dir)
    journal['status'] = 'applying'
    journal['steps'][1]['state'] = 'planned'
    (journal_dir / 'journal.json').write_text(json.dumps(journal))
    os.chmod(setuid_host['binary'], 0o6755)


def test_a_killed_run_is_completed_by_the_next(capsys, setuid_host, journal_dir):
    """The journal of a run killed after its first step (the set-group-id bit given): the next run takes the second
    step, says it completed the earlier one, and one undo reverts both, to the binary of before the killed run."""
    killed_after_first_step(capsys, setuid_host, journal_dir)
    check = run_module(sendmail_harden, capsys, setuid_args(setuid_host), check_mode=True)
    assert check['completed']['steps'] == 1 and check['changed_controls'] == ['SM-SETUID-01']
    assert journal_of(journal_dir)['status'] == 'applying'  # check mode writes nothing, the journal neither
    result = run_module(sendmail_harden, capsys, setuid_args(setuid_host))
    assert result['changed_controls'] == check['changed_controls'] and result['drift_after'] == []
    assert 'this run completed one that stopped part-way' in result['msg']
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o2755
    finished = journal_of(journal_dir)
    assert finished['status'] == 'done' and [entry.get('inherited', False) for entry in finished['steps']] == [True, False]
    undone = run_module(sendmail_harden, capsys, {'binary': setuid_host['binary'], 'undo': True})
    assert undone['changed'] is True and [item['target'] for item in undone['undone']] == [setuid_host['binary']] * 2
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o4755


def test_undo_puts_the_configuration_back(capsys, host, journal_dir):
    """harden, then undo: sendmail.cf and sendmail.mc are byte for byte as before; check mode of undo changes nothing;
    a second undo has nothing left to do."""
    before = snapshot(host['mail'])
    run_module(sendmail_harden, capsys, base_args(host))
    hardened = snapshot(host['mail'])
    assert hardened != before
    check = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True}, check_mode=True)
    assert check['changed'] is True and check['cf_changed'] == [str(host['mail'] / 'sendmail.cf')]
    assert snapshot(host['mail']) == hardened
    undone = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True})
    assert undone['changed'] is True and undone['msg'].startswith('Undid the run of ')
    assert snapshot(host['mail']) == before
    assert journal_of(journal_dir)['status'] == 'undone'
    again = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True})
    assert again['changed'] is False and again['msg'] == 'Nothing to undo: the last run was undone already.'


def test_undo_leaves_a_later_change_alone(capsys, host):
    run_module(sendmail_harden, capsys, base_args(host))
    cf = host['mail'] / 'sendmail.cf'
    cf.write_text(cf.read_text() + '# a later change of the administrator\n')
    edited = snapshot(host['mail'])
    for check_mode in (True, False):
        result = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True}, check_mode=check_mode)
        assert result['failed'] is True and result['changed'] is False
        assert ': %s; undo leaves an administrator\'s later change alone, so nothing was changed.' % cf in result['msg']
    assert snapshot(host['mail']) == edited


def test_undo_without_a_journal_has_nothing_to_do(capsys, host):
    result = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True})
    assert result['changed'] is False and result['msg'] == 'Nothing to undo: no run of the hardening changed this host.'


def test_a_pin_without_dpkg_statoverride_is_refused_not_a_crash(capsys, setuid_host, monkeypatch):
    """A Debian host whose statoverride file pins the binary set-user-id, without dpkg-statoverride to change it: the
    binary's mode is fixed, the pin is a refusal, said, and nothing breaks."""
    real = _engine.ModuleIO.bin
    monkeypatch.setattr(_engine.ModuleIO, 'bin', lambda self, name, dirs=(): None if name == 'dpkg-statoverride' else real(self, name, dirs))
    pinned = [{'owner': 'root', 'group': 'root', 'mode': '4755', 'path': setuid_host['binary']}]
    monkeypatch.setattr(_read_state, 'read_statoverrides', lambda: pinned)
    result = run_module(sendmail_harden, capsys, setuid_args(setuid_host, statoverride=True, include=['setuid', 'SM-STATOVR-01']))
    assert result['rc'] == 0, result.get('msg')
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o2755
    assert [(item['kind'], item['target'], item['why']) for item in result['not_done'] if item['kind'] == 'refuse'] == [
        ('refuse', 'dpkg-statoverride', 'dpkg-statoverride is not available on this host')]


def test_undo_has_sendmail_read_what_it_put_back(capsys, host, journal_dir):
    """The configuration undo puts back is read by sendmail again: one it no longer accepts (here, a copy with a line
    it rejects) is said, not silently left for the next restart."""
    run_module(sendmail_harden, capsys, base_args(host))
    copy = journal_dir / ('files.%s' % journal_of(journal_dir)['run']) / '0'
    copy.write_text(copy.read_text() + 'Zfoo\n')
    result = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True})
    assert result['failed'] is True
    assert result['msg'].startswith('the undo stopped short: sendmail rejects the installed %s' % (host['mail'] / 'sendmail.cf'))


def test_a_killed_run_asked_something_else_is_rolled_back_first(capsys, setuid_host, journal_dir):
    """The next run is asked other controls than the killed one: completing the killed run's work could leave it half
    done, so it is rolled back first (check mode says it would be), and this run starts from the host as it was."""
    killed_after_first_step(capsys, setuid_host, journal_dir)
    other = setuid_args(setuid_host, include=['SM-SETGID-01'])
    check = run_module(sendmail_harden, capsys, other, check_mode=True)
    assert check['completed']['how'] == 'to roll back' and os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o6755
    result = run_module(sendmail_harden, capsys, other)
    assert result['completed']['how'] == 'rolled back' and 'was rolled back first' in result['msg']
    # The set-group-id bit the killed run gave is taken back, then given again by this run, which is asked for it.
    assert os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o6755 and result['changed_controls'] == ['SM-SETGID-01']
    assert not any(entry.get('inherited') for entry in journal_of(journal_dir)['steps'])


def test_any_error_rolls_back_and_the_last_run_stays_the_one_to_undo(capsys, host, setuid_host, journal_dir, monkeypatch):
    """A run hardened the configuration; a later run stops on an error of any kind (here a full disk while writing):
    what it did is undone, and undo still reverts the earlier run."""
    run_module(sendmail_harden, capsys, base_args(host))
    earlier = journal_of(journal_dir)['run']
    from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_kinds
    real = _apply_kinds.KINDS['path']['apply']
    calls = []

    def full_disk(item, context):
        calls.append(item)
        if len(calls) == 2:
            raise OSError(28, 'No space left on device')
        return real(item, context)
    monkeypatch.setitem(_apply_kinds.KINDS['path'], 'apply', full_disk)
    result = run_module(sendmail_harden, capsys, setuid_args(setuid_host))
    assert result['failed'] is True and result['msg'].startswith('the run stopped: No space left on device.')
    assert result['msg'].endswith('the host is as it was.') and os.stat(setuid_host['binary']).st_mode & 0o7777 == 0o4755
    assert journal_of(journal_dir)['run'] == earlier and journal_of(journal_dir)['status'] == 'done'
    undone = run_module(sendmail_harden, capsys, {'binary': host['binary'], 'undo': True})
    assert undone['changed'] is True and undone['cf_changed'] == [str(host['mail'] / 'sendmail.cf')]
