"""With --tags setuid only the set-user-id family changed; the playbook's own tasks ran around it;
the playbook's variables overrode the role's defaults."""
from __future__ import annotations


def test_playbook_tasks_ran_around_the_role(host):
    assert host.file("/root/site-before").content_string == "before\n"
    assert host.file("/root/site-after").content_string == "after\n"


def test_set_user_id_bits_are_gone(host):
    assert not host.file("/usr/libexec/sendmail/sendmail").mode & 0o4000
    assert not host.file("/usr/sbin/sensible-mda").mode & 0o4000


def test_other_families_were_left_alone(host):
    """The legacy host's other drift is still there: only the tagged family ran."""
    assert host.file("/var/spool/mqueue").mode & 0o7777 == 0o777
    assert host.file("/etc/mail/sendmail.cf").mode & 0o7777 == 0o664
    assert host.file("/etc/aliases").user == "alice"
    cf = host.file("/etc/mail/sendmail.cf").content_string
    assert "O RunAsUser=" not in cf.replace("#O RunAsUser", "")
    assert "GroupWritableAliasFile" in cf


def test_playbook_variables_override_the_role_defaults(host):
    """statoverride: false in the playbook: no new pin for sensible-mda (the role's default would
    add one). The existing pin of the sendmail binary is corrected in any case, or an upgrade
    would bring its set-user-id bit back."""
    pins = host.check_output("dpkg-statoverride --list")
    assert "/usr/sbin/sensible-mda" not in pins
    assert "root smmsp 2755 /usr/libexec/sendmail/sendmail" in pins
