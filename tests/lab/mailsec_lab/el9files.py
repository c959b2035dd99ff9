"""The files of the `el9` profile's packages, written by the lab after the RHEL 9 sendmail package's
settings: its default sendmail.mc and submit.mc, the map and .cf rebuild script and its Makefile, the
sysconfig file, the two systemd units, and the two RPM specs whose %files carry the package's owners,
modes and file kinds. Facts of that package; the text is ours."""
from __future__ import annotations

MTA_ADDRESS = "127.0.0.1"  # RHEL's MTA listens on the IPv4 loopback only; a lab host puts its own here
CF_DIR = "/usr/share/sendmail-cf"

SENDMAIL_MC = f"""\
divert(-1)dnl
dnl # The MTA's configuration, with the settings of the RHEL 9 package's default.
dnl # After a change, /etc/mail/make builds /etc/mail/sendmail.cf again (it needs
dnl # the m4 files of the sendmail-cf package, in {CF_DIR}).
divert(0)dnl
include(`{CF_DIR}/m4/cf.m4')dnl
VERSIONID(`setup for linux')dnl
OSTYPE(`linux')dnl
dnl # Unknown users are run as user 8 (mail), group 12 (mail).
define(`confDEF_USER_ID', ``8:12'')dnl
define(`confTO_CONNECT', `1m')dnl
define(`confTRY_NULL_MX_LIST', `True')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`PROCMAIL_MAILER_PATH', `/usr/bin/procmail')dnl
define(`ALIAS_FILE', `/etc/aliases')dnl
define(`STATUS_FILE', `/var/log/mail/statistics')dnl
define(`UUCP_MAILER_MAX', `2000000')dnl
define(`confUSERDB_SPEC', `/etc/mail/userdb.db')dnl
dnl # No VRFY, no EXPN, queue runs for root and the queue's owner only.
define(`confPRIVACY_FLAGS', `authwarnings,novrfy,noexpn,restrictqrun')dnl
define(`confAUTH_OPTIONS', `A')dnl
define(`confAUTH_REALM', `mail')dnl
dnl # STARTTLS with the self-signed pair made when the package was installed.
define(`confCACERT_PATH', `/etc/pki/tls/certs')dnl
define(`confCACERT', `/etc/pki/tls/certs/ca-bundle.crt')dnl
define(`confSERVER_CERT', `/etc/pki/tls/certs/sendmail.pem')dnl
define(`confSERVER_KEY', `/etc/pki/tls/private/sendmail.key')dnl
define(`confTLS_SRV_OPTIONS', `V')dnl
define(`confTO_IDENT', `0')dnl
FEATURE(`no_default_msa', `dnl')dnl
FEATURE(`smrsh', `/usr/sbin/smrsh')dnl
FEATURE(redirect)dnl
FEATURE(always_add_domain)dnl
FEATURE(use_cw_file)dnl
FEATURE(use_ct_file)dnl
dnl # Local mail goes through procmail, which retries when a mailbox is over quota.
FEATURE(local_procmail, `', `procmail -t -Y -a $h -d $u')dnl
dnl # RHEL's has FEATURE(`blacklist_recipients') here, which its 8.16 m4 files take without access_db (and
dnl # which then does nothing); 8.17's refuse it, as blocklist_recipients, without access_db: left out.
EXPOSED_USER(`root')dnl
dnl # SMTP on the loopback address only.
DAEMON_OPTIONS(`Port=smtp,Addr={MTA_ADDRESS}, Name=MTA')dnl
FEATURE(`accept_unresolvable_domains')dnl
LOCAL_DOMAIN(`localhost.localdomain')dnl
MAILER(smtp)dnl
MAILER(procmail)dnl
"""

# sendmail's own submit.mc, with the pid file where the package's units look for it.
SUBMIT_MC = f"""\
divert(-1)dnl
dnl # The mail submission program's configuration (set-group-id smmsp, client queue).
divert(0)dnl
include(`{CF_DIR}/m4/cf.m4')dnl
VERSIONID(`submit, el9 layout')dnl
define(`confCF_VERSION', `Submit')dnl
define(`__OSTYPE__',`')dnl
define(`_USE_DECNET_SYNTAX_', `1')dnl
define(`confTIME_ZONE', `USE_TZ')dnl
define(`confDONT_INIT_GROUPS', `True')dnl
define(`confPID_FILE', `/run/sm-client.pid')dnl
FEATURE(`msp', `[{MTA_ADDRESS}]')dnl
"""

# /etc/mail/make: what the units run before each start, and what `make -C /etc/mail` calls.
MAKE_SCRIPT = f"""\
#!/bin/sh
# Brings the maps, the aliases database and the .cf files of /etc/mail up to date with their
# sources: a map when its text is newer than its .db, sendmail.cf and submit.cf when their .mc is
# newer (with the m4 files of sendmail-cf). SM_FORCE_DBREBUILD=1 and SM_FORCE_CFREBUILD=1 rebuild
# regardless. Targets: all (the default), aliases, clean, NAME.db, NAME.cf.
cd /etc/mail || exit 1

need() {{
    [ -e "$1" ] || {{ echo "$1 is missing" >&2; exit 2; }}
}}

map() {{
    src=${{1%.db}}
    need "$src"
    if [ -z "$SM_FORCE_DBREBUILD" ] && ! [ "$src" -nt "$1" ]; then
        return 0
    fi
    case $1 in
        userdb.db) makemap btree "$1" <"$src" ;;
        *) makemap hash "$1" <"$src" ;;
    esac
}}

aliases() {{
    if [ -z "$SM_FORCE_DBREBUILD" ] && [ -e /etc/aliases.db ] && ! [ /etc/aliases -nt /etc/aliases.db ] &&
        [ -e aliasesdb-stamp ] && ! [ aliasesdb-stamp -ot /etc/aliases.db ]; then
        return 0
    fi
    # Only while the mta alternative is sendmail's: the database may be another MTA's.
    if [ "$(readlink -e /usr/bin/newaliases)" = /usr/sbin/sendmail.sendmail ]; then
        /usr/bin/newaliases >/dev/null && touch aliasesdb-stamp
    else
        rm -f aliasesdb-stamp
    fi
}}

cf() {{
    mc=${{1%.cf}}.mc
    need "$mc"
    if [ -z "$SM_FORCE_CFREBUILD" ] && ! [ "$mc" -nt "$1" ]; then
        return 0
    fi
    if ! [ -f {CF_DIR}/m4/cf.m4 ]; then
        echo "$mc is newer than $1: install sendmail-cf to build it again" >&2
        exit 15
    fi
    umask 022
    [ -e "$1" ] && mv -f "$1" "$1.bak"
    m4 "$mc" >"$1"
}}

all() {{
    for optional in bitdomain uudomain genericstable userdb authinfo; do
        [ -f "$optional" ] && map "$optional.db"
    done
    for table in virtusertable access domaintable mailertable; do
        map "$table.db"
    done
    cf sendmail.cf
    cf submit.cf
}}

[ $# -eq 0 ] && set -- all
for target; do
    case $target in
        all) all ;;
        aliases) aliases ;;
        clean) rm -f ./*.db ./*~ aliasesdb-stamp ;;
        *.db) map "$target" ;;
        *.cf) cf "$target" ;;
        *) echo "no rule to make $target" >&2; exit 2 ;;
    esac
done
"""

MAKEFILE = """\
# `make -C /etc/mail [TARGET]` runs /etc/mail/make: all (the default), aliases, clean, NAME.db, NAME.cf.
all:
\t@./make all

aliases clean:
\t@./make $@

%.db %.cf: FORCE
\t@./make $@

FORCE:

.PHONY: all aliases clean FORCE
"""

SYSCONFIG = """\
DAEMON=yes
QUEUE=1h
"""

SENDMAIL_SERVICE = """\
[Unit]
Description=Sendmail Mail Transport Agent
After=syslog.target network.target
Conflicts=postfix.service exim.service
Wants=sm-client.service
StartLimitIntervalSec=0

[Service]
Type=forking
PIDFile=/run/sendmail.pid
Environment=SENDMAIL_OPTS=-q1h
EnvironmentFile=-/etc/sysconfig/sendmail
ExecStartPre=-/etc/mail/make
ExecStartPre=-/etc/mail/make aliases
ExecStart=/usr/sbin/sendmail -bd $SENDMAIL_OPTS $SENDMAIL_OPTARG

[Install]
WantedBy=multi-user.target
Also=sm-client.service
"""

SM_CLIENT_SERVICE = """\
[Unit]
Description=Sendmail Mail Transport Client
After=syslog.target network.target sendmail.service
Conflicts=postfix.service exim.service
BindsTo=sendmail.service
StartLimitIntervalSec=0

[Service]
Type=forking
PIDFile=/run/sm-client.pid
Environment=SENDMAIL_OPTS=-q1h
EnvironmentFile=-/etc/sysconfig/sendmail
ExecStartPre=/bin/touch /run/sm-client.pid
ExecStartPre=/bin/chown smmsp:smmsp /run/sm-client.pid
ExecStartPre=-/sbin/restorecon /run/sm-client.pid
ExecStartPre=-/etc/mail/make
ExecStart=/usr/sbin/sendmail -L sm-msp-queue -Ac $SENDMAIL_OPTS $SENDMAIL_OPTARG
ExecStartPost=/usr/bin/sleep 0.1

[Install]
WantedBy=multi-user.target
"""

PAM_SMTP = """\
#%PAM-1.0
auth       include      password-auth
account    include      password-auth
"""

SASL_CONF = """\
pwcheck_method:saslauthd
mech_list: plain login
"""

# The small tables of /etc/mail: a comment each, and access's loopback relaying.
TABLES = {
    "access": "# Who may relay or is refused, by address or domain (FEATURE(access_db) is off by default).\n"
              "Connect:localhost.localdomain\t\tRELAY\nConnect:localhost\t\t\tRELAY\nConnect:127.0.0.1\t\t\tRELAY\n",
    "domaintable": "# Domain names rewritten to others (FEATURE(domaintable)).\n",
    "local-host-names": "# Other names of this host, one a line: mail to them is delivered here.\n",
    "mailertable": "# Mailers and relays by destination domain (FEATURE(mailertable)).\n",
    "trusted-users": "# Users who may set their sender address without a warning, one a line.\n",
    "virtusertable": "# Virtual addresses and where they go (FEATURE(virtusertable)).\n",
}

# The sendmail package's files by kind, as the RHEL 9 spec lists them (man pages and documents aside).
PROGRAM_FILES = ("/usr/bin/hoststat", "/usr/bin/makemap", "/usr/bin/purgestat", "/usr/sbin/mailstats",
                 "/usr/sbin/makemap.sendmail", "/usr/sbin/editmap.sendmail", "/usr/sbin/praliases",
                 "/usr/bin/rmail.sendmail", "/usr/bin/newaliases.sendmail", "/usr/bin/mailq.sendmail",
                 "/usr/sbin/smrsh", "/usr/lib/sendmail.sendmail")
SENDMAIL_BINARY = "/usr/sbin/sendmail.sendmail"
# Links the mta alternative manages (name, link, target); the first is the master.
ALTERNATIVES = (
    ("mta", "/usr/sbin/sendmail", "/usr/sbin/sendmail.sendmail"),
    ("mta-makemap", "/usr/sbin/makemap", "/usr/sbin/makemap.sendmail"),
    ("mta-editmap", "/usr/sbin/editmap", "/usr/sbin/editmap.sendmail"),
    ("mta-mailq", "/usr/bin/mailq", "/usr/bin/mailq.sendmail"),
    ("mta-newaliases", "/usr/bin/newaliases", "/usr/bin/newaliases.sendmail"),
    ("mta-rmail", "/usr/bin/rmail", "/usr/bin/rmail.sendmail"),
    ("mta-sendmail", "/usr/lib/sendmail", "/usr/lib/sendmail.sendmail"),
    ("mta-pam", "/etc/pam.d/smtp", "/etc/pam.d/smtp.sendmail"),
)
ALTERNATIVES_PRIORITY = 90
CONFIG_FILES = ("Makefile", "make", "sendmail.cf", "submit.cf", "helpfile", "sendmail.mc", "submit.mc", *TABLES)
# The maps' databases as makemap makes them (0640): RHEL's spec records them 0644, and its sm-client.st
# root's 0644, which `rpm -V` on a new RHEL host would list; the lab records what the %post leaves.
GHOST_MAPS = ("virtusertable.db", "access.db", "domaintable.db", "mailertable.db")


def sendmail_spec(version: str) -> str:
    ghosts = "".join(f"%ghost %attr(0755,-,-) {link}\n" for name, link, _target in ALTERNATIVES if name != "mta-pam")
    return f"""\
Name: sendmail
Version: {version}
Release: 1.el9lab
Summary: sendmail, laid out as the RHEL 9 package lays it out (a lab build)
License: Sendmail
BuildArch: x86_64
AutoReqProv: no

%description
sendmail built from the upstream source with the RHEL 9 package's build choices, and
installed where that package installs it, with its owners, modes and file kinds.

%install
cp -a %{{stage}}/. %{{buildroot}}/

%files
%defattr(-,root,root,-)
{"".join(path + chr(10) for path in PROGRAM_FILES)}%attr(2755,root,smmsp) {SENDMAIL_BINARY}
{ghosts}%ghost /etc/pam.d/smtp
%dir /var/log/mail
%dir /etc/smrsh
%dir /etc/mail
%attr(0770,smmsp,smmsp) %dir /var/spool/clientmqueue
%attr(0700,root,mail) %dir /var/spool/mqueue
%config(noreplace) %verify(not size mtime md5) /var/log/mail/statistics
{"".join(f"%config(noreplace) /etc/mail/{name}{chr(10)}" for name in CONFIG_FILES)}\
%ghost /etc/mail/aliasesdb-stamp
{"".join(f"%ghost %attr(0640,root,root) /etc/mail/{name}{chr(10)}" for name in GHOST_MAPS)}\
%ghost %attr(0660,smmsp,smmsp) /var/spool/clientmqueue/sm-client.st
/usr/lib/systemd/system/sendmail.service
/usr/lib/systemd/system/sm-client.service
%config(noreplace) /etc/sysconfig/sendmail
%config(noreplace) /etc/pam.d/smtp.sendmail
%config(noreplace) /etc/sasl2/Sendmail.conf
"""


def cf_spec(version: str) -> str:
    return f"""\
Name: sendmail-cf
Version: {version}
Release: 1.el9lab
Summary: The m4 files that build sendmail.cf from sendmail.mc (a lab build)
License: Sendmail
BuildArch: noarch
AutoReqProv: no

%description
sendmail's cf tree, where the RHEL 9 sendmail-cf package installs it.

%install
cp -a %{{stage}}/. %{{buildroot}}/

%files
%defattr(-,root,root,-)
%dir {CF_DIR}
{CF_DIR}/*
"""
