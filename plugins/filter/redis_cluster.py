# Filters for roles/redis: the layout of a new Redis Cluster with anti-affinity.
# Plain Python on purpose: the unit tests import it directly.
from __future__ import annotations


class PlanError(ValueError):
    """The instances cannot be laid out with the requested replicas and anti-affinity."""


def redis_cluster_plan(instances, replicas):
    """Choose masters and assign every replica to a master on another host.

    ``instances`` is a list of ``{"host": ..., "address": ..., "port": ...}``,
    one per Redis instance of the group. Masters are taken round robin over the
    hosts (first port of every host, then the second ...), so each host carries
    masters evenly; every other instance becomes the replica of the master with
    the fewest replicas among those on another host that have no replica on
    this instance's host yet. Returns ``{"masters": [...], "replicas": [{...,
    "master": <master instance>}]}``; raises PlanError when anti-affinity cannot
    hold.
    """
    replicas = int(replicas)
    if replicas < 0:
        raise PlanError("replicas must be >= 0")
    by_host = {}
    for item in instances:
        by_host.setdefault(item["host"], []).append(item)
    for items in by_host.values():
        items.sort(key=lambda i: int(i["port"]))
    hosts = sorted(by_host)
    ordered = []
    for index in range(max((len(v) for v in by_host.values()), default=0)):
        ordered.extend(by_host[host][index] for host in hosts if index < len(by_host[host]))
    if len(ordered) % (replicas + 1):
        raise PlanError(f"{len(ordered)} instances do not divide into shards of 1 master + {replicas} replica(s)")
    count = len(ordered) // (replicas + 1)
    masters = ordered[:count]
    spares = ordered[count:]
    rank = {host: index for index, host in enumerate(hosts)}
    assigned = [[] for _ in masters]

    def candidates(replica):
        """Masters that may take this replica, the nearest next host first."""
        found = [
            index
            for index, master in enumerate(masters)
            if master["host"] != replica["host"]
            and len(assigned[index]) < replicas
            and all(r["host"] != replica["host"] for r in assigned[index])
        ]
        return sorted(
            found,
            key=lambda i: (len(assigned[i]), (rank[masters[i]["host"]] - rank[replica["host"]]) % len(hosts), i),
        )

    def place(position):
        # Depth-first search with backtracking: small inputs, and the ordering
        # above finds the rotation (host n -> host n+1) at the first try.
        if position == len(spares):
            return True
        for index in candidates(spares[position]):
            assigned[index].append(spares[position])
            if place(position + 1):
                return True
            assigned[index].pop()
        return False

    if not place(0):
        raise PlanError(
            f"the {len(spares)} replica(s) cannot all sit on another host than their master and than each other; "
            "add hosts or change the number of instances per host"
        )
    plan = [dict(replica, master=masters[index]) for index, group in enumerate(assigned) for replica in group]
    return {"masters": masters, "replicas": plan}


def redis_instances(addresses, ports):
    """``{host: address}`` and the per-host ports -> one ``{host, address, port}`` per instance."""
    return [
        {"host": host, "address": addresses[host], "port": int(port)} for host in sorted(addresses) for port in ports
    ]


class FilterModule:
    def filters(self):
        return {"redis_cluster_plan": redis_cluster_plan, "redis_instances": redis_instances}
