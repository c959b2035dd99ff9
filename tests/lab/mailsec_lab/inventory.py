"""The lab's Ansible inventory: group `lab`, one group per profile, release and backend."""
from __future__ import annotations

import json

from mailsec_lab import config
from mailsec_lab.hosts import Host


def render(hosts: list[Host]) -> str:
    """YAML inventory; JSON is valid YAML and keeps this free of a YAML library."""
    key = str(config.key_path())
    hostvars = {
        h.name: {
            "ansible_host": h.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": key,
            # Lab hosts are remade often: their keys change, and only this machine reaches them.
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "ansible_python_interpreter": "/usr/bin/python3",
            "lab_fqdn": h.fqdn,
            "lab_release": h.release,
            "lab_profile": h.profile,
            "lab_backend": h.backend,
            "lab_deny_syscalls": h.deny_syscalls,
            "lab_network": h.network,
            "lab_netns": str(h.netns) if h.netns else None,
            "lab_smtp_address": h.smtp_address,
        }
        for h in hosts
    }
    children = {}
    for attr in ("profile", "release", "backend"):
        for h in hosts:
            group = children.setdefault(getattr(h, attr), {"hosts": {}})
            group["hosts"][h.name] = {}
    tree = {"all": {"children": {"lab": {"hosts": hostvars, "children": children}}}}
    return "# Written by the mailsec.sendmail lab; remade at every change of the lab.\n" + json.dumps(tree, indent=2) + "\n"


def write(hosts: list[Host]) -> None:
    path = config.inventory_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(hosts))
