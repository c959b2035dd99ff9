# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_mc

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures')

# m4 stand-in: a small .cf with the options of the defines it knows; a FEATURE that does not exist fails.
FAKE_M4 = r'''#!%s
import re, sys
text = sys.stdin.read()
if 'no_such_feature' in text:
    sys.stderr.write("m4:stdin:100: cannot open `/usr/share/sendmail/cf/feature/no_such_feature.m4': No such file or directory\n")
    sys.exit(1)
names = {'confRUN_AS_USER': 'RunAsUser', 'confDONT_BLAME_SENDMAIL': 'DontBlameSendmail', 'confLOG_LEVEL': 'LogLevel'}
out = ['V10/Berkeley', 'O QueueDirectory=/var/spool/mqueue']
for name, value in re.findall(r"^define\(`(\w+)', `([^']*)'\)", text, re.M):
    if name in names:
        out.append('O %%s=%%s' %% (names[name], value))
for name in re.findall(r"^FEATURE\(`(\w+)'", text, re.M):
    out.append('# feature ' + name)
    out.append('CF' + name)
sys.stdout.write('\n'.join(out) + '\n')
'''

# sendmail stand-in: rejects an unknown RunAsUser like sendmail -bv does.
FAKE_SENDMAIL = r'''#!%s
import sys
path = sys.argv[2]
with open(path) as handle:
    text = handle.read()
if 'RunAsUser=nosuch' in text:
    sys.stdout.write(path + ': line 3: readcf: option RunAsUser: unknown user nosuch\n')
    sys.exit(70)
sys.stdout.write('root... deliverable: mailer local, user root\n')
'''


@pytest.fixture
def host(tmp_path, monkeypatch, capsys):
    """/etc/mail with Debian's bookworm sendmail.mc and submit.mc, .cf files built by the fakes, fake m4 and sendmail."""
    etc = tmp_path / 'etc'
    etc.mkdir()
    tools = tmp_path / 'bin'
    tools.mkdir()
    for name, text in (('m4', FAKE_M4), ('sendmail', FAKE_SENDMAIL)):
        (tools / name).write_text(text % sys.executable)
        (tools / name).chmod(0o755)
    bins = {'m4': str(tools / 'm4'), 'sendmail': str(tools / 'sendmail')}
    monkeypatch.setattr(sendmail_mc.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: bins.get(name))
    for name in ('sendmail.mc', 'submit.mc'):
        shutil.copy(os.path.join(FIXTURES, 'bookworm', name), str(etc / name))
        os.chmod(etc / name, 0o644)
    (tmp_path / 'ansible-tmp').mkdir()
    host = {'etc': etc, 'tmp': tmp_path / 'ansible-tmp', 'bins': bins, 'capsys': capsys}
    for name in ('sendmail', 'submit'):
        assert run(host, {'path': str(etc / ('%s.mc' % name))})['cf_changed'] is True
    assert run(host, {'path': str(etc / 'sendmail.mc')})['changed'] is False
    return host


def run(host, args, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff, _ansible_tmpdir=str(host['tmp']))
    with patch_module_args(args), pytest.raises(SystemExit):
        sendmail_mc.main()
    return json.loads(host['capsys'].readouterr().out)


def sums(etc):
    """sha256 of every file in the directory (temporary files would show up too)."""
    return {name: hashlib.sha256((etc / name).read_bytes()).hexdigest() for name in sorted(os.listdir(etc))}


MC = 'sendmail.mc'


def mc_args(host, **args):
    return dict({'path': str(host['etc'] / MC)}, **args)


def test_check_diff_then_real_then_idempotent(host):
    etc = host['etc']
    before = sums(etc)
    args = mc_args(host, defines={'confRUN_AS_USER': 'smmta:smmsp'})
    checked = run(host, args, check=True, diff=True)
    assert sums(etc) == before
    assert os.listdir(host['tmp']) == []
    assert checked['changed'] is True
    assert checked['mc_changed'] is True and checked['cf_changed'] is True
    assert checked['cf_reason'] == 'the .mc changed'
    assert checked['defines_changed'] == ['confRUN_AS_USER']
    assert checked['cf_changes'] == {'RunAsUser': {'before': [], 'after': ['smmta:smmsp']}}
    mc_diff, cf_diff = checked['diff']
    assert mc_diff['after'].replace("define(`confRUN_AS_USER', `smmta:smmsp')dnl\n", '') == mc_diff['before']
    assert mc_diff['before'] == (etc / MC).read_text()
    assert cf_diff == {'before_header': '%s (options)' % (etc / 'sendmail.cf'), 'after_header': '%s (options)' % (etc / 'sendmail.cf'),
                       'before': '', 'after': 'O RunAsUser=smmta:smmsp\n'}

    done = run(host, args, diff=True)
    assert {key: done[key] for key in ('changed', 'mc_changed', 'cf_changed', 'defines_changed', 'cf_changes', 'diff')} == \
        {key: checked[key] for key in ('changed', 'mc_changed', 'cf_changed', 'defines_changed', 'cf_changes', 'diff')}
    assert 'O RunAsUser=smmta:smmsp' in (etc / 'sendmail.cf').read_text().splitlines()
    assert (etc / 'sendmail.cf').read_text().endswith('# MAILER(`smtp\')dnl\n# \n')
    assert sorted(os.listdir(etc)) == ['sendmail.cf', 'sendmail.mc', 'submit.cf', 'submit.mc']
    again = run(host, args)
    assert again['changed'] is False
    assert again['defines_changed'] == []


def test_modes_are_kept(host):
    etc = host['etc']
    os.chmod(etc / 'sendmail.cf', 0o664)
    os.chmod(etc / MC, 0o640)
    run(host, mc_args(host, defines={'confRUN_AS_USER': 'smmta:smmsp'}))
    assert os.stat(etc / 'sendmail.cf').st_mode & 0o7777 == 0o664
    assert os.stat(etc / MC).st_mode & 0o7777 == 0o640
    assert os.stat(etc / 'sendmail.cf').st_mtime_ns >= os.stat(etc / MC).st_mtime_ns


def test_backup_only_of_what_changes(host):
    etc = host['etc']
    old_mc, old_cf = (etc / MC).read_text(), (etc / 'sendmail.cf').read_text()
    result = run(host, mc_args(host, defines={'confLOG_LEVEL': '9'}, backup=True))
    assert (etc / os.path.basename(result['backup_file'])).read_text() == old_mc
    assert (etc / os.path.basename(result['cf_backup_file'])).read_text() == old_cf
    count = len(os.listdir(etc))
    again = run(host, mc_args(host, defines={'confLOG_LEVEL': '9'}, backup=True))
    assert 'backup_file' not in again and 'cf_backup_file' not in again
    assert len(os.listdir(etc)) == count


@pytest.mark.parametrize('args, message', [
    ({'defines': {'confRUN_AS_USER': "smm'ta"}},
     "Cannot change {mc}: the value of confRUN_AS_USER has unbalanced m4 quotes (` and '): every backquote needs a quote after it."),
    ({'features': {'no_such_feature': ''}},
     "m4 could not build {cf} from {mc} (exit 1: m4:stdin:100: cannot open `/usr/share/sendmail/cf/feature/no_such_feature.m4': "
     "No such file or directory); fix the .mc, nothing was changed."),
    ({'defines': {'confRUN_AS_USER': 'nosuch:nosuch'}},
     'sendmail rejected the configuration built for {cf} (exit 70: {cf}: line 3: readcf: option RunAsUser: unknown user nosuch); '
     'nothing was changed.'),
    ({'defines': {'confRUN_AS_USER': ['a']}}, 'Cannot change {mc}: the value of confRUN_AS_USER must be a string or null, not a list.'),
    ({'features': {'smrsh': {'a': 1}}},
     'Cannot change {mc}: the arguments of FEATURE smrsh must be a string, a list of strings or null.'),
])
@pytest.mark.parametrize('check', [True, False])
def test_bad_values_change_nothing(host, args, message, check):
    etc = host['etc']
    before = sums(etc)
    result = run(host, mc_args(host, backup=True, **args), check=check)
    assert result['failed'] is True
    assert result['msg'] == message.format(mc=etc / MC, cf=etc / 'sendmail.cf')
    assert sums(etc) == before


def test_remove_define_and_features(host):
    etc = host['etc']
    run(host, mc_args(host, defines={'confRUN_AS_USER': 'smmta:smmsp'}))
    result = run(host, mc_args(host, defines={'confRUN_AS_USER': None, 'confPRIVACY_FLAGS': 'goaway'},
                               features={'smrsh': '', 'greet_pause': None, 'delay_checks': ['friend']}))
    assert result['defines_changed'] == ['confRUN_AS_USER', 'confPRIVACY_FLAGS']
    assert result['features_changed'] == ['smrsh', 'greet_pause', 'delay_checks']
    assert result['cf_changes'] == {'RunAsUser': {'before': ['smmta:smmsp'], 'after': []}}
    text = (etc / MC).read_text()
    assert "FEATURE(`smrsh')dnl" in text
    assert 'greet_pause' not in text.replace('dnl # The greet_pause', '')
    assert "FEATURE(`delay_checks', `friend')dnl" in text
    assert run(host, mc_args(host, defines={'confRUN_AS_USER': None}, features={'greet_pause': None}))['changed'] is False


def test_build_false_changes_only_the_mc(host):
    etc = host['etc']
    cf = (etc / 'sendmail.cf').read_bytes()
    result = run(host, mc_args(host, defines={'confRUN_AS_USER': 'smmta:smmsp'}, build=False))
    assert (result['mc_changed'], result['cf_changed']) == (True, False)
    assert (etc / 'sendmail.cf').read_bytes() == cf
    # the next build notices that the .cf is behind
    later = run(host, mc_args(host))
    assert later['cf_changed'] is True
    assert later['mc_changed'] is False
    assert later['cf_reason'] in ('the .cf is older than the .mc', 'the .cf differs from a fresh build of the .mc')


def test_stale_cf_is_rebuilt(host):
    etc = host['etc']
    mc_time = os.stat(etc / MC).st_mtime_ns
    os.utime(etc / 'sendmail.cf', ns=(mc_time - 10**9, mc_time - 10**9))
    result = run(host, mc_args(host), check=True)
    assert (result['changed'], result['cf_reason'], result['cf_changes']) == (True, 'the .cf is older than the .mc', {})
    run(host, mc_args(host))
    assert run(host, mc_args(host))['changed'] is False


def test_hand_edited_cf_is_rebuilt(host):
    etc = host['etc']
    cf = etc / 'sendmail.cf'
    stat = os.stat(cf)
    cf.write_text(cf.read_text().replace('O QueueDirectory=/var/spool/mqueue', 'O QueueDirectory=/tmp'))
    os.utime(cf, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = run(host, mc_args(host))
    assert result['cf_reason'] == 'the .cf differs from a fresh build of the .mc'
    assert result['cf_changes'] == {'QueueDirectory': {'before': ['/tmp'], 'after': ['/var/spool/mqueue']}}
    assert result['mc_changed'] is False


def test_missing_cf_is_built(host):
    etc = host['etc']
    os.unlink(etc / 'submit.cf')
    result = run(host, {'path': str(etc / 'submit.mc'), 'defines': {'confLOG_LEVEL': '9'}})
    assert result['cf'] == str(etc / 'submit.cf')
    assert result['cf_reason'] == 'the .mc changed'
    assert "define(`confLOG_LEVEL', `9')dnl\n" in (etc / 'submit.mc').read_text()
    assert 'O LogLevel=9' in (etc / 'submit.cf').read_text()
    assert os.stat(etc / 'submit.cf').st_mode & 0o7777 == 0o644


def test_path_errors(host, tmp_path):
    etc = host['etc']
    result = run(host, {'path': str(etc / 'nothing.mc')})
    assert result['msg'] == '%s does not exist: give the path of the sendmail .mc file.' % (etc / 'nothing.mc')
    result = run(host, {'path': str(etc / 'sendmail.m4')})
    assert result['msg'] == '%s does not end in .mc: set cf to the .cf file to build from it.' % (etc / 'sendmail.m4')
    (tmp_path / 'link.mc').symlink_to(etc / MC)
    result = run(host, {'path': str(tmp_path / 'link.mc'), 'defines': {'confLOG_LEVEL': '9'}})
    assert result['msg'] == '%s is a symbolic link; give the real path of the file (nothing was changed).' % (tmp_path / 'link.mc')


def test_other_cf_name(host):
    etc = host['etc']
    result = run(host, mc_args(host, cf=str(etc / 'other.cf')))
    assert result['cf_reason'] == 'the .cf does not exist'
    assert (etc / 'other.cf').exists()


def test_without_m4(host, monkeypatch):
    etc = host['etc']
    monkeypatch.setattr(sendmail_mc.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: None)
    result = run(host, mc_args(host))
    assert result['changed'] is False
    # the shape of a warning depends on the ansible-core version; its text does not
    assert 'm4 is not installed: could not compare %s with a fresh build of %s.' % (etc / 'sendmail.cf', etc / MC) in json.dumps(result['warnings'])
    before = sums(etc)
    result = run(host, mc_args(host, defines={'confLOG_LEVEL': '9'}))
    assert result['msg'] == ('Cannot rebuild %s: m4 is not installed; install it (and the sendmail-cf files), nothing was changed.'
                             % (etc / 'sendmail.cf'))
    assert sums(etc) == before


def test_mc_is_restored_when_the_install_fails(host, monkeypatch):
    etc = host['etc']
    before = sums(etc)
    mc_time = os.stat(etc / MC).st_mtime_ns

    def refuse(candidate, cf_path, backup=None):
        raise PermissionError(1, 'Operation not permitted')

    from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_cfbuild
    monkeypatch.setattr(_apply_cfbuild, 'install_cf', refuse)
    result = run(host, mc_args(host, defines={'confLOG_LEVEL': '9'}))
    assert result['msg'] == 'Could not install %s: Operation not permitted; nothing was changed.' % (etc / 'sendmail.cf')
    assert sums(etc) == before
    assert os.stat(etc / MC).st_mtime_ns == mc_time
