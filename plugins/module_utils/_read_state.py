# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Collecting the host state the controls are judged on: read-only I/O around the pure parsers.

Every path is read with lstat first; a symbolic link is followed only where a control says so
(alias and map files), and then both the link and its target are recorded. Nothing is written.
The result is a plain dict (see ``collect``) that ``_judge`` judges without further I/O.
"""

from __future__ import annotations

import datetime
import glob
import grp
import os
import platform
import pwd
import socket
import stat

from ansible_collections.mailsec.sendmail.plugins.module_utils._aliases import entries as alias_entries, program_path
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_binary import (
    ALTERNATIVE_LINKS, D0_ARGS, PACKAGE_LISTS, drop_method, exe_path, link_chain, package_programs, parse_d0, resolve_binary,
    search_order,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import alias_files, parse_cf, run_as_parts, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_cfbuild import BuildError, read_text, render_cf
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import compare
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import (
    PID_FILES, SENDMAIL_PROGRAMS, candidate_paths, daemon_processes, group_name, mta_running, pid_file_daemons, read_statoverrides,
    running_older_than, setid_files, user_name,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import McError, parse_mc
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_privdrop import method_works, not_run, probe
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import forward_entries
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import CONFIGS, OS_RELEASE, SYSLOG_CONFIGS, places
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_package import package_verify
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_smtp import probe as smtp_probe
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_tls import not_after, pem_certificates
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_runas_impact import (
    MAX_DEPTH, MAX_READ as FORWARD_BYTES, expand_forward_path, identity, list_lines, scan, users_of_host,
)

DEFAULT_CONFIGS = CONFIGS
# Subdirectories a queue may split its files into (QUEUE_GROUPS, "qf", "df", "xf" links or directories).
QUEUE_SUBDIRS = ('qf', 'df', 'xf')
_FAMILY_IDS = {
    'Debian': ('debian', 'ubuntu', 'devuan', 'raspbian', 'linuxmint'),
    'RedHat': ('rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'ol', 'amzn'),
}


def parse_os_release(text: str) -> dict:
    """KEY=value pairs of an os-release file, quotes removed."""
    values = {}
    for line in text.splitlines():
        key, equals, value = line.partition('=')
        if equals and key.strip() and not key.startswith('#'):
            values[key.strip()] = value.strip().strip('"\'')
    return values


def os_info(release: dict, system: str = 'Linux') -> dict:
    """OS family (as ansible_facts['os_family'] names it), id, release codename and version."""
    ids = [release.get('ID', '').lower()] + release.get('ID_LIKE', '').lower().split()
    family = 'FreeBSD' if system == 'FreeBSD' else None
    for name, known in _FAMILY_IDS.items():
        if family is None and any(word in known for word in ids):
            family = name
    return {'family': family or system, 'id': release.get('ID'), 'release': release.get('VERSION_CODENAME') or None,
            'version_id': release.get('VERSION_ID')}


def read_os(path: str = OS_RELEASE) -> dict:
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            release = parse_os_release(handle.read())
    except OSError:
        release = {}
    return os_info(release, platform.system())


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return 'link'
    if stat.S_ISDIR(mode):
        return 'dir'
    if stat.S_ISREG(mode):
        return 'file'
    return 'other'


def stat_entry(path: str, st: os.stat_result) -> dict:
    """One lstat result as the state records it; ``nlink`` and ``inode`` (device and inode number) tell hard links apart."""
    return {'path': path, 'exists': True, 'error': None, 'type': _kind(st.st_mode), 'owner': user_name(st.st_uid),
            'group': group_name(st.st_gid), 'uid': st.st_uid, 'gid': st.st_gid, 'mode': '%04o' % stat.S_IMODE(st.st_mode),
            'link': None, 'target': None, 'size': st.st_size if stat.S_ISREG(st.st_mode) else None,
            'nlink': st.st_nlink, 'inode': [st.st_dev, st.st_ino]}


def lstat_entry(path: str, follow: bool = False) -> dict:
    """lstat of a path; with ``follow``, a symbolic link's chain is resolved on purpose and its end lstat'ed too."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {'path': path, 'exists': False, 'error': None}
    except OSError as exc:
        return {'path': path, 'exists': False, 'error': exc.strerror or str(exc)}
    entry = stat_entry(path, st)
    if entry['type'] == 'link':
        try:
            entry['link'] = os.readlink(path)
        except OSError as exc:
            entry['link'] = '? (%s)' % (exc.strerror or exc)
        if follow:
            chain = link_chain(path)
            entry['target'] = lstat_entry(chain[-1]) if chain[-1] != path else None
    return entry


def read_config(path: str):
    """(parsed, error) of a configuration file; an unreadable or foreign file gives an error, not an exception."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            parsed = parse_cf(handle.read())
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if not parsed['options'] and parsed['version_level'] is None:
        return None, 'no options and no V line: not a sendmail configuration'
    return parsed, None


def config_state(path: str) -> dict:
    parsed, error = read_config(path)
    return {'path': path, 'error': error, 'settings': settings(parsed) if parsed else None,
            'maps': parsed['maps'] if parsed else {}, 'values': parsed['occurrences'] if parsed else {},
            'mailers': parsed['mailers'] if parsed else {}}


def parent_dirs(path: str) -> list:
    """Every directory from / to the one holding ``path``."""
    dirs = []
    current = os.path.dirname(os.path.normpath(path))
    while True:
        dirs.append(current)
        if current in ('/', ''):
            break
        current = os.path.dirname(current)
    return list(reversed(dirs))


def layout(configs: dict, binary_resolved: str | None, mc_files: list) -> dict:
    """The paths of each layout group the controls read, from the configuration settings (pure)."""
    mta = configs['mta'].get('settings') or {}
    msp = configs['msp'].get('settings') or {}
    cf = [configs['mta']['path'], configs['msp']['path']]
    config_dirs = []
    for path in cf + list(mc_files):
        config_dirs.extend(d for d in parent_dirs(path) if d not in config_dirs)
    aliases = alias_files(mta.get('AliasFile') or [])
    maps = [{'name': 'aliases', 'paths': [f for entry in aliases for f in entry['data_files']]}]
    for name, declared in sorted((configs['mta'].get('maps') or {}).items()):
        if declared['file']:
            paths = [declared['file']] + [f for f in declared['data_files'] if f != declared['file']]
            maps.append({'name': name, 'paths': paths})
    return {
        'binary': [binary_resolved] if binary_resolved else [],
        'config_dirs': config_dirs,
        'cf_mta': [configs['mta']['path']],
        'cf_msp': [configs['msp']['path']],
        'mc': sorted(mc_files),
        'aliases': [entry['file'] for entry in aliases if entry['file']],
        'maps': maps,
        'help': sorted({s['HelpFile'] for s in (mta, msp) if s.get('HelpFile')}),
        # The statistics each writes: the MTA's, and the submission program's where it keeps its own.
        'status': [mta['StatusFile']] if mta.get('StatusFile') else [],
        'status_msp': [msp['StatusFile']] if msp.get('StatusFile') and msp.get('StatusFile') != mta.get('StatusFile') else [],
        'queue_mta': [mta['QueueDirectory']] if mta.get('QueueDirectory') else [],
        'queue_msp': [msp['QueueDirectory']] if msp.get('QueueDirectory') else [],
        # The private keys the MTA reads for STARTTLS, as server and as client.
        'tls_keys': sorted({mta[name] for name in ('ServerKeyFile', 'ClientKeyFile') if mta.get(name)}),
        # The certificates it shows (server, client) and the CA certificates it trusts.
        'tls_certs': sorted({mta[name] for name in TLS_CERT_OPTIONS if mta.get(name)}),
        # The directory of CA certificates it trusts: read for STARTTLS, which sendmail offers only where it exists.
        'tls_ca_path': [mta['CACertPath']] if mta.get('CACertPath') else [],
    }


# The options of the MTA that name certificate files.
TLS_CERT_OPTIONS = ('ServerCertFile', 'ClientCertFile', 'CACertFile')


def certificate_state(path: str) -> dict:
    """The expiry of the first certificate of a PEM file: ``not_after`` (UTC, ISO 8601), or ``error``."""
    try:
        with open(path, encoding='ascii', errors='replace') as handle:
            found = pem_certificates(handle.read(1 << 20))
    except OSError as exc:
        return {'path': path, 'not_after': None, 'error': exc.strerror or str(exc)}
    if not found:
        return {'path': path, 'not_after': None, 'error': 'no PEM certificate in it'}
    try:
        return {'path': path, 'not_after': not_after(found[0]).strftime('%Y-%m-%dT%H:%M:%SZ'), 'error': None}
    except ValueError as exc:
        return {'path': path, 'not_after': None, 'error': 'unreadable certificate: %s' % exc}


def transit_state(configs: dict, pid_file: str | None, openssl: str | None = None) -> dict:
    """The server and client certificates' expiry, and what the daemons offer over the wire (see _read_smtp);
    ``openssl`` is the path of the program a self-signed pair would be made with, None where the host has none.

    ``stale``: the daemon started before its sendmail.cf last changed, so the wire shows an older configuration
    (as right after the hardening, before the restart), not to be judged against this one."""
    mta = configs['mta'].get('settings') or {}
    certificates = {mta[name]: certificate_state(mta[name]) for name in ('ServerCertFile', 'ClientCertFile') if mta.get(name)}
    running = mta_running(pid_file) and not configs['mta'].get('error')
    found = smtp_probe((configs['mta'].get('values') or {}).get('DaemonPortOptions') or [], running)
    found['stale'] = running and running_older_than(pid_file, configs['mta']['path'])
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    # What a self-signed certificate the hardening makes is made with (found by the caller), and for.
    return {'certificates': certificates, 'smtp': found, 'now': now, 'openssl': openssl, 'host_name': socket.getfqdn()}


# Layout groups whose symbolic links are followed on purpose (besides the maps): the file at the end is what is read or run.
FOLLOWED_GROUPS = ('aliases', 'alias_programs')


def layout_paths(groups: dict) -> list:
    """Every path of a layout, once; (path, follow) pairs, following links of alias and map files and of
    programs run from aliases on purpose."""
    found = {}
    for group, paths in groups.items():
        if group == 'maps':
            for item in paths:
                for path in item['paths']:
                    found[path] = True
        else:
            for path in paths:
                found[path] = found.get(path, False) or group in FOLLOWED_GROUPS
    return sorted(found.items())


def alias_source(path: str) -> dict:
    """An alias file read whole (a link followed on purpose, as sendmail does): its entries and text; an
    absent file has none, an unreadable one an error."""
    try:
        with open(path, encoding='utf-8', errors='surrogateescape') as handle:
            text = handle.read()
    except FileNotFoundError:
        return {'path': path, 'resolved': None, 'error': None, 'text': None, 'entries': []}
    except OSError as exc:
        return {'path': path, 'resolved': None, 'error': exc.strerror or str(exc), 'text': None, 'entries': []}
    return {'path': path, 'resolved': os.path.realpath(path), 'error': None, 'text': text, 'entries': alias_entries(text)}


# The syslog priorities whose rules keep sendmail's LOG_INFO messages.
MAIL_PRIORITIES = ('*', 'debug', 'info')


def mail_rules(text: str, config: str) -> list:
    """The rules of a syslog configuration that send the mail facility to a file: ``config``, ``line``,
    ``text`` and ``file``. A selector list (``a.b;c.d``) sends mail when one of its selectors names the mail
    facility (or ``*``) at ``info`` or below (sendmail logs what matters at LOG_INFO), and a later one does not
    take it away again (``none``, a higher priority, a ``!`` negation). A line ending in a backslash goes on."""
    found = []
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if lines and lines[-1][1].endswith('\\'):
            lines[-1] = (lines[-1][0], lines[-1][1][:-1] + ' ' + line.strip())
        else:
            lines.append((number, line))
    for number, line in lines:
        words = line.split('#', 1)[0].split()
        if len(words) < 2 or not words[-1].lstrip('-').startswith('/'):
            continue
        logged = False
        for selector in words[0].split(';'):
            facilities, _dot, priority = selector.partition('.')
            names = facilities.split(',')
            if 'mail' in names or '*' in names:
                logged = not priority.startswith('!') and priority.lstrip('=') in MAIL_PRIORITIES
        if logged:
            found.append({'config': config, 'line': number, 'text': line.strip(), 'file': words[-1].lstrip('-')})
    return found


def syslog_state() -> dict:
    """The syslog configuration files there are and their mail rules."""
    configs = sorted(path for pattern in SYSLOG_CONFIGS for path in glob.glob(pattern))
    rules = []
    for path in configs:
        try:
            with open(path, encoding='utf-8', errors='replace') as handle:
                rules.extend(mail_rules(handle.read(), path))
        except OSError:
            continue
    return {'configs': configs, 'rules': rules}


def smrsh_layout(family: str | None = None) -> dict:
    """The layout group ``smrsh_dirs``: smrsh's directory (the first there is, the family's place first) and those above it."""
    found = next((path for path in places('smrsh_dirs', family) if os.path.isdir(path) and not os.path.islink(path)), None)
    return {'smrsh_dirs': parent_dirs(os.path.join(found, 'x')) if found else [], 'smrsh_dir': [found] if found else []}


def smrsh_entries(groups: dict) -> list:
    """The entries of smrsh's directory (the programs it may run): ``name`` and ``link`` (where a link points)."""
    if not groups.get('smrsh_dir'):
        return []
    directory = groups['smrsh_dir'][0]
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            link = os.readlink(path) if os.path.islink(path) else None
        except OSError:
            link = None
        found.append({'name': name, 'link': link})
    return found


def alias_layout(sources: dict) -> dict:
    """The layout groups of the programs run from aliases (``alias_programs``) and the directories above them."""
    programs = sorted({program_path(value) for source in sources.values() for entry in source['entries']
                       for kind, value in entry['targets'] if kind == 'program'} - {None})
    dirs = []
    for program in programs:
        dirs.extend(d for d in parent_dirs(program) if d not in dirs)
    return {'alias_programs': programs, 'alias_program_dirs': dirs}


def forward_files(configs: dict, users=None, host: str | None = None) -> list:
    """The files users have on each entry of the MTA's ForwardPath (lstat in each home; links count, as
    sendmail reads through them): ``user``, ``entry`` (as written) and ``path``."""
    value = (configs['mta'].get('settings') or {}).get('ForwardPath')
    host = host or socket.gethostname().split('.')[0]
    found = []
    for name, home in users if users is not None else users_of_host():
        for entry in forward_entries(value):
            paths = expand_forward_path(entry, name, home, host)
            if paths and os.path.lexists(paths[0]):
                found.append({'user': name, 'entry': entry, 'path': paths[0], 'programs': _programs_of(paths[0])})
    return found


def _programs_of(path: str, depth: int = 0, seen=None) -> list | None:
    """The commands a .forward or :include: list pipes mail into (its first bytes, as the RunAsUser scan reads
    them), with those of the :include: lists it names, as deep as sendmail follows them; None when one of
    them cannot be read."""
    seen = set() if seen is None else seen
    if not path.startswith('/'):
        return None  # sendmail reads it from where it runs: what it holds is not known here
    if depth > MAX_DEPTH or path in seen:
        return []
    seen.add(path)
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read(FORWARD_BYTES)
    except OSError:
        return None
    found = []
    for _number, _line, targets in list_lines(text):
        for kind, value in targets:
            if kind == 'program':
                found.append(value)
            elif kind == 'include':
                nested = _programs_of(value, depth + 1, seen)
                if nested is None:
                    return None
                found.extend(nested)
    return found


def alias_includes(aliases: dict) -> dict:
    """The :include: lists the alias files name: path -> the programs they pipe into (None: unreadable)."""
    lists = sorted({value for source in aliases.values() for entry in source.get('entries') or []
                    for kind, value in entry['targets'] if kind == 'include'})
    return {path: _programs_of(path) for path in lists}


def queue_listing(directory: str) -> dict:
    """lstat of every entry of a queue directory, links not followed: its regular files (``files``), its qf/df/xf
    subdirectories (``dirs``) and their entries, and every other entry (``others``: symbolic links, directories,
    pipes, sockets, devices), which sendmail does not write and nothing may change or trust. An entry gone between
    the listing and its lstat (a live queue) is left out."""
    files, dirs, others = [], [], []
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return {'files': [], 'dirs': [], 'others': [], 'error': None}
    except OSError as exc:
        return {'files': [], 'dirs': [], 'others': [], 'error': exc.strerror or str(exc)}
    for name in names:
        entry = lstat_entry(os.path.join(directory, name))
        if entry.get('type') == 'dir' and name in QUEUE_SUBDIRS:
            sub = queue_listing(entry['path'])
            if sub['error']:
                return {'files': files, 'dirs': dirs, 'others': others, 'error': '%s: %s' % (entry['path'], sub['error'])}
            dirs.append(entry)
            files.extend(sub['files'])
            others.extend(sub['others'])
        elif entry.get('type') == 'file':
            files.append(entry)
        elif entry.get('exists') or entry.get('error'):
            others.append(entry)
    return {'files': files, 'dirs': dirs, 'others': others, 'error': None}


def account(token: str):
    """A user named by name or uid: name, uid, gid and primary group name; None when unknown."""
    try:
        entry = pwd.getpwuid(int(token)) if token.isdigit() else pwd.getpwnam(token)
    except KeyError:
        return None
    try:
        group = grp.getgrgid(entry.pw_gid).gr_name
    except KeyError:
        group = str(entry.pw_gid)
    return {'name': entry.pw_name, 'uid': entry.pw_uid, 'gid': entry.pw_gid, 'group': group}


def account_tokens(configs: dict) -> list:
    """The users the configurations name (RunAsUser of both, TrustedUser of the MTA)."""
    tokens = []
    for role in ('mta', 'msp'):
        found = configs[role].get('settings') or {}
        if found.get('RunAsUser'):
            tokens.append(run_as_parts(found['RunAsUser'])[0] or '')
        if found.get('TrustedUser'):
            tokens.append(found['TrustedUser'].strip())
    return sorted(set(token for token in tokens if token))


def ask_binary(run, path: str):
    """Parsed -d0.10 output, or (None, reason) when the program is not sendmail; ``run(argv) -> (rc, out, err)``."""
    try:
        rc, out, err = run([path] + list(D0_ARGS))
    except OSError as exc:
        return None, 'could not run %s: %s' % (path, exc.strerror or exc)
    d0 = parse_d0(out)
    if d0['version'] is None:
        return None, '%s did not answer -d0.10 like sendmail (rc %d): %s' % (path, rc, (err or out).strip()[:200])
    return d0, None


def mc_path_of(cf_path: str) -> str:
    """The .mc a .cf is built from, beside it: sendmail.cf <- sendmail.mc, submit.cf <- submit.mc."""
    return os.path.splitext(cf_path)[0] + '.mc'


def _cf_m4_missing(mc_text: str, mc_path: str) -> str | None:
    """The cf.m4 a .mc includes, when that file is absent (sendmail's m4 files are not installed)."""
    try:
        includes = parse_mc(mc_text)['includes']
    except McError:
        return None
    for name in includes:
        if name.endswith('cf.m4'):
            path = name if os.path.isabs(name) else os.path.join(os.path.dirname(mc_path), name)
            return None if os.path.exists(path) else path
    return None


def _features(mc_text: str | None) -> list:
    """The FEATUREs a .mc calls; none when there is no .mc or it cannot be scanned."""
    try:
        return sorted(parse_mc(mc_text)['features']) if mc_text is not None else []
    except McError:
        return []


def _defines(mc_text: str | None) -> dict:
    """The defines a .mc sets (name -> value, as m4 passes it); none when there is no .mc or it cannot be scanned."""
    try:
        return dict(parse_mc(mc_text)['defines']) if mc_text is not None else {}
    except McError:
        return {}


def cf_source(run, cf_path: str, m4: str | None) -> dict:
    """Whether a .cf is what its .mc builds: m4 renders the .mc into memory and the two are compared.

    ``buildable`` says whether anything on the host can rebuild the .cf from the .mc (a .mc, m4 and
    sendmail's m4 files); ``reason`` says why not. ``built`` is m4's text; ``error`` m4's complaint when
    the .mc does not build; ``only_installed``/``only_built`` are the differing lines (see _text_cfedit.compare);
    ``features`` and ``defines`` what the .mc calls and sets, also where nothing builds it.
    """
    mc_path = mc_path_of(cf_path)
    found = {'cf': cf_path, 'mc': mc_path, 'buildable': False, 'reason': None, 'error': None, 'built': None,
             'only_installed': [], 'only_built': [], 'features': [], 'defines': {}}
    try:
        mc_text = read_text(mc_path)[0]
        cf_text = read_text(cf_path)[0]
    except (BuildError, OSError) as exc:
        found['reason'] = str(exc)
        return found
    found['features'] = _features(mc_text)
    found['defines'] = _defines(mc_text)
    missing = _cf_m4_missing(mc_text, mc_path) if mc_text is not None else None
    if mc_text is None:
        found['reason'] = 'there is no %s: %s is its only source' % (mc_path, cf_path)
    elif m4 is None:
        found['reason'] = 'm4 is not installed: nothing on this host rebuilds %s from %s' % (cf_path, mc_path)
    elif missing:
        found['reason'] = "sendmail's m4 files are not installed (%s is absent): nothing on this host rebuilds %s" % (missing, cf_path)
    if found['reason']:
        return found
    found['buildable'] = True
    try:
        found['built'] = render_cf(mc_text, mc_path, cf_path, run, m4=m4)
    except BuildError as exc:
        found['error'] = str(exc)
        return found
    found.update(compare(cf_text or '', found['built']))
    return found


def empty_state(binary: dict, reason: str, os_facts: dict, located: dict | None = None) -> dict:
    """The state of a host where no sendmail program answers; ``located`` says what was looked at (see locate)."""
    return {'installed': False, 'reason': reason, 'version': None, 'drop_method': None, 'binary': binary, 'os': os_facts,
            'pid_file': None, 'cf_sources': {}, 'locate': located or {},
            'configs': {role: {'path': path, 'error': None, 'settings': None, 'maps': {}, 'values': {}}
                        for role, path in DEFAULT_CONFIGS.items()},
            'layout': {}, 'paths': {}, 'accounts': {}, 'alias_sources': {}, 'setid_files': [], 'setid_candidates': [], 'statoverrides': [],
            'queue_files': {}, 'kernel': not_run('sendmail is not installed'), 'method_works': None, 'runas_impact': None,
            'forward_files': [], 'smrsh_entries': [], 'compiled_with': [], 'os_defines': [], 'syslog': {},
            'transit': None, 'package_verify': None}


# Where sendmail is looked for when the program asked for is absent or not sendmail's (see locate).
PLACES = {'alternatives': ALTERNATIVE_LINKS, 'programs': SENDMAIL_PROGRAMS, 'package_lists': PACKAGE_LISTS,
          'pid_files': PID_FILES, 'proc': '/proc'}


def packaged_programs(lists) -> list:
    """(program, list) of the sendmail programs the package lists name; a list that is not there names none."""
    found = []
    for listing in lists:
        try:
            with open(listing, encoding='utf-8', errors='replace') as handle:
                found.extend((path, listing) for path in package_programs(handle.read()))
        except OSError:
            continue
    return found


def running_daemons(places: dict) -> list:
    """The sendmail daemons of this host: by their name, title or program, and those sendmail's pid files name."""
    daemons = daemon_processes(places['proc'])
    by_pid = {item['pid']: item for item in daemons}
    for item in pid_file_daemons(places['pid_files'], places['proc']):
        if item['pid'] in by_pid:
            by_pid[item['pid']]['pid_file'] = item['pid_file']
        else:
            daemons.append(item)
    return daemons


def _program_of(daemon: dict) -> str | None:
    """The real path of the program a daemon was started from; None when unreadable."""
    path = exe_path(daemon.get('exe'))[0]
    return os.path.realpath(path) if path else None


def _daemon_text(daemon: dict) -> str:
    text = 'pid %d, %s' % (daemon['pid'], daemon.get('exe') or daemon.get('title') or 'its program unreadable')
    return text + (', named by %s' % daemon['pid_file'] if daemon.get('pid_file') else '')


def seen_text(reason: str, daemons: list, gone: list) -> str | None:
    """What shows that sendmail is on a host where no program of it answers, in one sentence; None when nothing does.

    ``daemons``: the running sendmail daemons; ``gone``: (program, package list) of programs a package lists
    that are not there.
    """
    parts = []
    if daemons:
        runs = 'a sendmail daemon runs' if len(daemons) == 1 else 'sendmail daemons run'
        parts.append('%s (%s) but %s' % (runs, '; '.join(_daemon_text(item) for item in daemons[:5]), reason))
    for path, listing in gone:
        parts.append('%s lists %s, which does not exist' % (listing, path) + ('' if daemons else ', and %s' % reason))
    return '; '.join(parts) or None


def locate(run, asked: str, places: dict | None = None) -> dict:
    """Where sendmail is, and what was asked to find it.

    The program ``asked`` for first; where it is absent or does not answer ``-d0.10`` like sendmail: the
    alternatives links, the known places, the programs the package lists name and the programs of the
    running daemons (``places``, PLACES by default). Returns ``binary`` (resolve_binary of the program
    used), ``d0`` (its -d0.10, None when no program answers), ``reason`` (why ``asked`` was not used),
    ``found`` (where and how sendmail was found instead, in words), ``seen`` (see seen_text), ``evidence``
    (what was looked at, where no program answers) and ``daemons``.
    """
    places = places or PLACES
    located = {'asked': asked, 'program': None, 'found': None, 'seen': None, 'evidence': None, 'daemons': []}
    binary = resolve_binary(asked)
    reason = '%s does not exist' % asked
    others = set()  # programs that answered, but not as sendmail: another MTA's sendmail (Postfix, Exim)
    if binary['exists']:
        d0, reason = ask_binary(run, asked)
        if d0 is not None:
            return dict(located, binary=binary, d0=d0, reason=None, program=asked)
        others.add(binary['resolved'])
    packaged = packaged_programs(places['package_lists'])
    daemons = running_daemons(places)
    looked, refused = [], []
    for path, how in search_order(asked, places['alternatives'], places['programs'], packaged, daemons):
        looked.append(path)
        found = resolve_binary(path)
        if not found['exists']:
            continue
        d0, why = ask_binary(run, path)
        if d0 is None:
            refused.append(why)
            others.add(found['resolved'])
            continue
        return dict(located, binary=found, d0=d0, reason=reason, program=path, daemons=daemons,
                    found='%s; sendmail found at %s, through %s' % (reason, found['resolved'], how))
    # A process of another MTA's sendmail program is named sendmail too: it shows no sendmail.
    daemons = [item for item in daemons if _program_of(item) not in others]
    gone = [(path, listing) for path, listing in packaged if not os.path.lexists(path)]
    evidence = [reason] + refused + (['none answers at %s' % ', '.join(looked)] if looked else [])
    evidence += ['/proc/%d/exe: %s' % (item['pid'], item.get('exe') or 'unreadable') for item in daemons]
    evidence += ['%s lists %s: absent' % (listing, path) for path, listing in gone]
    return dict(located, binary=binary, d0=None, reason=reason, daemons=daemons, seen=seen_text(reason, daemons, gone),
                evidence='; '.join(evidence))


def runas_impact(configs: dict, groups: dict, fallback: dict, stripped=()) -> dict:
    """What the MTA's RunAsUser breaks (see _read_runas_impact): the one it names, else ``fallback`` (``user``
    and ``group``), the one it would get; ``stripped``: files whose set-user-id bit the hardening drops."""
    value = (configs['mta'].get('settings') or {}).get('RunAsUser')
    user, group = run_as_parts(value) if value else (fallback.get('user'), fallback.get('group'))
    result = {'user': user, 'set': bool(value), 'error': None, 'items': [], 'users_scanned': 0}
    if configs['mta'].get('error'):
        return dict(result, error='cannot read %s' % configs['mta']['path'])
    if not user:
        return dict(result, error='no RunAsUser is set and none is expected')
    found = account(user)
    if found is None:
        return dict(result, error='the user %s does not exist' % user)
    gid = found['gid']
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            return dict(result, error='the group %s does not exist' % group)
    return dict(result, **scan(identity(found['name'], found['uid'], gid), configs['mta'], groups.get('aliases') or [],
                               stripped=stripped))


def kernel_probe(probe_kernel: bool, probe_user: str) -> dict:
    if not probe_kernel:
        return not_run('probe_kernel is false')
    found = account(probe_user)
    if found is None:
        return not_run('probe_user %s does not exist' % probe_user)
    return probe(found['uid'])


def collect(run, binary_path: str, extra_paths=(), probe_kernel: bool = True, probe_user: str = 'nobody',
            os_family: str | None = None, m4: str | None = None, cf_sources: bool = False, impact: dict | None = None,
            forwards: bool = False, places: dict | None = None, transit: bool = False,
            openssl: str | None = None, rpm: str | None = None) -> dict:
    """Everything the controls read, from the host; never writes, never raises for host data.

    ``run(argv, data=None, cwd=None) -> (rc, out, err)`` runs sendmail (and m4). With ``cf_sources``
    each .cf is compared with what m4 (``m4``: its path, None when absent) builds of its .mc. With
    ``impact`` (``{'user': ..., 'group': ...}``, the RunAsUser to judge where none is set) the
    deliveries RunAsUser breaks are looked for. With ``forwards`` the files users have on each ForwardPath
    entry are listed. With ``transit`` the certificates' expiry is read and the daemons are asked over the wire what
    they offer, and ``openssl`` (its path, None when absent) is kept for the self-signed pair a fix may make. ``rpm``
    (its path, None when absent) verifies the package's files where the family's package manager is rpm.
    sendmail is looked for beyond ``binary_path`` in ``places`` (see locate); ``locate`` in the state says where it
    was found, or what shows it on a host where no program of it answers.
    """
    os_facts = read_os()
    if os_family:
        os_facts['family'] = os_family
    located = locate(run, binary_path, places)
    binary, d0 = located.pop('binary'), located.pop('d0')
    reason = located.pop('reason')
    if d0 is None:
        return empty_state(binary, reason, os_facts, located)
    files = d0['config_files']
    paths = {'mta': files.get('mta') or files.get('selected') or DEFAULT_CONFIGS['mta'], 'msp': files.get('msp') or DEFAULT_CONFIGS['msp']}
    configs = {role: config_state(path) for role, path in paths.items()}
    mc_files = glob.glob(os.path.join(os.path.dirname(paths['mta']), '*.mc'))
    groups = layout(configs, binary['resolved'], mc_files)
    aliases = {path: alias_source(path) for path in groups['aliases']}
    groups.update(alias_layout(aliases))
    groups.update(smrsh_layout(os_facts['family']))
    syslog = syslog_state()
    groups['mail_logs'] = sorted({rule['file'] for rule in syslog['rules']})
    verify = package_verify(run, os_facts['family'], rpm)
    entries = {path: lstat_entry(path, follow) for path, follow in layout_paths(groups)}
    for path in [entry['path'] for entry in (verify or {}).get('entries') or []]:  # what differs from the package
        entries.setdefault(path, lstat_entry(path))
    for path in extra_paths:
        entries.setdefault(path, lstat_entry(path))
    candidates = candidate_paths(extra=tuple(binary['chain']))
    method = drop_method(d0['os_defines'])
    kernel = kernel_probe(probe_kernel, probe_user)
    return {
        'installed': True, 'reason': None, 'version': d0['version'], 'drop_method': method, 'binary': binary, 'os': os_facts,
        'locate': located, 'pid_file': d0['pid_file'], 'configs': configs, 'alias_sources': aliases, 'alias_includes': alias_includes(aliases),
        'cf_sources': {role: cf_source(run, config['path'], m4) for role, config in configs.items()} if cf_sources else {}, 'layout': groups, 'paths': entries,
        'accounts': {token: account(token) for token in account_tokens(configs)},
        'setid_files': setid_files(candidates), 'setid_candidates': candidates, 'statoverrides': read_statoverrides(),
        'queue_files': {q: queue_listing(q) for q in groups['queue_mta'] + groups['queue_msp']},
        'kernel': kernel, 'method_works': method_works(method, kernel),
        'runas_impact': runas_impact(configs, groups, impact, candidates) if impact is not None else None,
        'forward_files': forward_files(configs) if forwards and not configs['mta'].get('error') else [],
        'smrsh_entries': smrsh_entries(groups), 'compiled_with': d0['compiled_with'], 'os_defines': d0['os_defines'], 'syslog': syslog,
        'transit': transit_state(configs, d0['pid_file'], openssl) if transit else None,
        'package_verify': verify,
    }


# The map classes makemap rebuilds (the alias files are rebuilt by sendmail -bi).
MAP_CLASSES = ('hash', 'btree')


def _mtime(path: str):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def stale_maps(state: dict) -> list:
    """Map databases older than their source: ``{'name', 'source', 'database', 'class'}`` each.

    The alias files are rebuilt together (``sendmail -bi``, name ``aliases``); K-line maps of class
    hash or btree one by one (``makemap``). Sources are stat'ed (a link such as /etc/mail/aliases is
    followed: sendmail reads through it too); absent sources are skipped.
    """
    found = []
    for item in (state.get('layout') or {}).get('maps') or []:
        if item['name'] == 'aliases':
            for source in (state.get('layout') or {}).get('aliases') or []:
                database = source + '.db'
                if database in item['paths'] and _mtime(source) is not None and (
                        _mtime(database) is None or _mtime(source) > _mtime(database)):
                    found.append({'name': 'aliases', 'source': source, 'database': database, 'class': 'aliases'})
            continue
        declared = ((state.get('configs') or {}).get('mta') or {}).get('maps', {}).get(item['name']) or {}
        source = declared.get('file')
        if declared.get('class') not in MAP_CLASSES or not source:
            continue
        database = source + '.db'
        if _mtime(source) is not None and (_mtime(database) is None or _mtime(source) > _mtime(database)):
            found.append({'name': item['name'], 'source': source, 'database': database, 'class': declared['class']})
    return found
