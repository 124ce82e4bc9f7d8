# Copyright: the govops authors. Apache-2.0.
"""Connection to a local podman container with Ansible pipelining.

The lab and every Molecule scenario reach their containers through podman.
containers.podman.podman runs ``podman exec`` without ``-i``, so it cannot
pipeline: every task costs a temporary directory, a copy of the AnsiballZ
file and three ``podman exec`` calls. This plugin is that connection with one
change: when Ansible pipelines (sends the module on stdin), the exec keeps
stdin open, so a task costs a single ``podman exec``. The measurement that
chose it over SSH and over the stock plugin is docs/benchmarks/connection.md.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_pipelined
short_description: Run tasks in a local podman container, with pipelining
description:
  - The connection of C(containers.podman.podman) (podman exec, files copied through the container's mount),
    with Ansible pipelining. The module is written to the stdin of one C(podman exec -i) instead of being copied
    into a temporary directory and run by three separate execs.
  - Used by the lab inventory (C(inventories/lab/group_vars/all/connection.yml)) and by every Molecule scenario
    (C(.config/molecule/config.yml), C(provisioner.connection_options)). Production talks SSH.
  - Pipelining is on for this plugin unless C(ANSIBLE_PIPELINING) or C(ansible_pipelining) says otherwise;
    C(become) with sudo works because Debian's sudo does not require a tty.
  - A container that is stopped, paused or gone makes the host UNREACHABLE (as a dead host is over SSH), not a
    failed task. Plays that must go on without a lost host (the failover's probe) depend on it.
version_added: "0.1.0"
options:
  remote_addr:
    description: The name or ID of the container.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_podman_host
  remote_user:
    description: The user to run commands as inside the container (C(podman exec --user)).
    ini:
      - section: defaults
        key: remote_user
    env:
      - name: ANSIBLE_REMOTE_USER
    vars:
      - name: ansible_user
  podman_extra_args:
    description: Extra arguments placed after C(podman) on every call.
    default: ""
    ini:
      - section: defaults
        key: podman_extra_args
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  podman_executable:
    description: The podman program.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  pipelining:
    description: Send modules on stdin of one exec (the point of this plugin).
    type: boolean
    default: true
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: connection
        key: pipelining
    vars:
      - name: ansible_pipelining
"""

import re
import shlex

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

# What podman says when the container cannot run a command at all: it is
# stopped, paused, being removed, or gone. The exit code of podman itself
# (125) or of a lost exec session (255); anything else is the command's own.
NOT_RUNNING = re.compile(
    r"can only create exec sessions on running containers|no such container|container state improper|"
    r"is paused|unpause the container|container .* does not exist",
    re.IGNORECASE,
)
PODMAN_ERROR_CODES = (125, 255)


class Connection(PodmanConnection):
    """containers.podman.podman with stdin kept open when Ansible pipelines."""

    transport = "podman_pipelined"
    has_pipelining = True

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        # The grandparent's exec_command only logs; the parent's would drop stdin.
        super(PodmanConnection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        exec_args = ["exec"]
        if in_data is not None:
            exec_args.append("--interactive")
        if self.user:
            exec_args.extend(("--user", self.user))
        command = shlex.split(to_native(cmd, errors="surrogate_or_strict"))
        rc, stdout, stderr = self._podman(exec_args, command, in_data)
        message = to_native(stderr, errors="surrogate_or_strict")
        if rc in PODMAN_ERROR_CODES and NOT_RUNNING.search(message):
            # A host that is down is unreachable, as over SSH: plays that
            # tolerate a lost host (failover probes) rely on that.
            raise AnsibleConnectionFailure(f"container {self._container_id} cannot run commands: {message.strip()}")
        return rc, stdout, stderr
