"""`python3 -m mailsec_lab COMMAND`: the lab's command line."""
from __future__ import annotations

import argparse
import json
import os
import time

from mailsec_lab import config, hosts, image, inventory
from mailsec_lab.log import say
from mailsec_lab.profiles import describe, prepare


SPEC = "NAME[:release[:profile[:backend[:deny[:network]]]]]"


def _spec(text: str) -> tuple[str, str, str, str, list[str], str]:
    """NAME[:release[:profile[:backend[:deny[:network]]]]], e.g. mx1:bookworm:legacy:systemd:setreuid,setregid.
    An empty field takes its default; deny lists the system calls the host's kernel refuses (EPERM);
    network is shared (the machine's) or own (a network namespace of the host's own)."""
    parts = text.split(":")
    if len(parts) > 6:
        raise SystemExit(f"{text}: a host is {SPEC}")
    parts += [""] * (6 - len(parts))
    defaults = ("", "bookworm", "stock", "light", "", "shared")
    name, release, profile, backend, deny, network = (part or default for part, default in zip(parts, defaults, strict=True))
    return name, release, profile, backend, [call for call in deny.split(",") if call], network


def cmd_image(args: argparse.Namespace) -> None:
    for release in args.releases or config.RELEASES:
        image.build_image(release, force=args.force)
        image.ensure_base(release)


def cmd_up(args: argparse.Namespace) -> None:
    """Create (when new) and start hosts, wait until they answer, write the inventory."""
    started = time.monotonic()
    todo = []
    for text in args.hosts:
        name, release, profile, backend, deny, network = _spec(text)
        path = config.hosts_dir() / name / "host.json"
        if not path.is_file():
            prepare(profile, release)  # what the host's setup takes from this machine: a built sendmail
        host = hosts.load(name) if path.is_file() else hosts.create(name, release, profile, backend, deny_syscalls=deny,
                                                                    network=network)
        hosts.start(host)
        todo.append(host)
    hosts.wait_ready(todo, timeout=args.timeout)
    inventory.write(hosts.all_hosts())
    say(f"{len(todo)} host(s) up in {time.monotonic() - started:.1f}s; inventory: {config.inventory_path()}")
    if args.json:
        # What Molecule's instance_config wants, one entry per host.
        print(json.dumps([{"instance": h.name, "address": h.address, "user": "root", "port": 22,
                           "identity_file": str(config.key_path()), "fqdn": h.fqdn, "release": h.release,
                           "profile": h.profile, "backend": h.backend, "deny_syscalls": h.deny_syscalls,
                           "network": h.network, "netns": str(h.netns) if h.netns else None, "smtp_address": h.smtp_address}
                          for h in todo]))


def cmd_stop(args: argparse.Namespace) -> None:
    for host in _selected(args.hosts):
        hosts.stop(host)
    inventory.write(hosts.all_hosts())


def cmd_down(args: argparse.Namespace) -> None:
    """Destroy hosts (all by default) and sweep what an interrupted run left."""
    names = [n for n in args.hosts if not args.missing_ok or (config.hosts_dir() / n / "host.json").is_file()]
    for host in _selected(names) if names or not args.hosts else []:
        say(f"destroying {host.name}")
        hosts.destroy(host)
    if not args.hosts:
        for removed in hosts.sweep():
            say(removed)
    inventory.write(hosts.all_hosts())


def cmd_ls(args: argparse.Namespace) -> None:
    rows = [("NAME", "ADDRESS", "RELEASE", "PROFILE", "BACKEND", "DENIED", "NETWORK", "STATE")]
    for h in hosts.all_hosts():
        rows.append((h.name, h.address, h.release, h.profile, h.backend, ",".join(h.deny_syscalls) or "-", h.network,
                     "running" if h.running() else "stopped"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(col.ljust(w) for col, w in zip(row, widths, strict=True)).rstrip())


def cmd_inventory(args: argparse.Namespace) -> None:
    inventory.write(hosts.all_hosts())
    print(config.inventory_path())


def cmd_profiles(args: argparse.Namespace) -> None:
    for profile in config.PROFILES:
        print(f"{profile}:")
        for line in describe(profile) or ["Debian as packaged"]:
            print(f"  - {line}")


def _selected(names: list[str]) -> list[hosts.Host]:
    return [hosts.load(n) for n in names] if names else hosts.all_hosts()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mailsec_lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("image", help="build (or reuse) the release images and their bases")
    p.add_argument("releases", nargs="*", help=f"{', '.join(config.RELEASES)} (default: all)")
    p.add_argument("--force", action="store_true", help="build the images again")
    p.set_defaults(func=cmd_image)
    p = sub.add_parser("up", help=f"create and start hosts: {SPEC}; deny: system calls refused in the host, "
                                  "comma-separated (systemd backend only); network: shared (default) or own")
    p.add_argument("hosts", nargs="+")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--json", action="store_true", help="print the hosts as JSON (Molecule's instance config)")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("stop", help="stop hosts (all by default); `up` starts them again")
    p.add_argument("hosts", nargs="*")
    p.set_defaults(func=cmd_stop)
    p = sub.add_parser("down", help="destroy hosts (all by default); nothing stays running or mounted")
    p.add_argument("hosts", nargs="*")
    p.add_argument("--missing-ok", action="store_true", help="hosts named that do not exist are no error")
    p.set_defaults(func=cmd_down)
    sub.add_parser("ls", help="list hosts and their state").set_defaults(func=cmd_ls)
    sub.add_parser("inventory", help="write the Ansible inventory and print its path").set_defaults(func=cmd_inventory)
    sub.add_parser("profiles", help="what each profile changes").set_defaults(func=cmd_profiles)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("the lab needs root (namespaces, mounts, chroot)")
    args.func(args)
    return 0
