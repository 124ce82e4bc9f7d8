# Filters for roles/redis: the layout of a new Redis Cluster with anti-affinity.
# Plain Python on purpose: the unit tests import it directly.
from __future__ import annotations


class PlanError(ValueError):
    """The instances cannot be laid out with the requested replicas and anti-affinity."""


def _round_robin(instances, host_key):
    """Instances ordered first port of every host, then the second ...: masters spread evenly."""
    by_host = {}
    for item in instances:
        by_host.setdefault(item[host_key], []).append(item)
    for items in by_host.values():
        items.sort(key=lambda i: int(i["port"]))
    ordered = []
    for index in range(max((len(v) for v in by_host.values()), default=0)):
        ordered.extend(by_host[host][index] for host in sorted(by_host) if index < len(by_host[host]))
    return ordered


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
    hosts = sorted({item["host"] for item in instances})
    ordered = _round_robin(instances, "host")
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


def _endpoint(item):
    return f"{item.get('address', item.get('ip'))}:{int(item['port'])}"


def _shards(nodes):
    """Masters holding slots or being given them, keyed by id, with their replicas' addresses."""
    masters = {n["id"]: {"node": n, "replicas": []} for n in nodes if n["role"] == "master"}
    for node in nodes:
        if node["role"] == "replica" and node.get("master_id") in masters:
            masters[node["master_id"]]["replicas"].append(node)
    return masters


def _may_follow(replica_ip, master_ip, current):
    """A replica on replica_ip may follow a master on master_ip with these replicas: anti-affinity."""
    return replica_ip != master_ip and all(r["ip"] != replica_ip for r in current)


def _find_swap(shards, master_ip, taken, pool):
    """(shard, replica, stand_in): an existing replica that may follow a new master on master_ip,
    and a new instance that may take its place beside its master; None when there is none."""
    for shard in sorted(shards.values(), key=lambda s: _endpoint(s["node"])):
        for replica in shard["replicas"]:
            if not _may_follow(replica["ip"], master_ip, taken):
                continue
            others = [r for r in shard["replicas"] if r is not replica]
            stand_in = next((n for n in pool if _may_follow(n["address"], shard["node"]["ip"], others)), None)
            if stand_in is not None:
                return shard, replica, stand_in
    return None


def redis_cluster_scale_plan(nodes, instances, replicas):
    """How new instances join a running cluster, keeping every shard's replicas on other hosts.

    ``nodes`` is the running cluster as redis_cluster_check returns it
    (``cluster_nodes``: id, ip, port, role, master_id); ``instances`` every
    instance of the group ({host, address, port}); the new ones are those
    whose address:port is not among the nodes. One in ``replicas + 1``
    new instances becomes a master (round robin over the new hosts, first
    ports first); the others become replicas, of a new master on another host
    when there is one, else of an existing master - in which case an existing
    replica on another host moves over to the new master (``moves``). Returns
    ``{"masters": [...], "replicas": [{..., "master": endpoint}], "moves":
    [{"replica": node, "master": endpoint}]}`` where endpoint is
    ``address:port``; the slots are rebalanced afterwards. Raises PlanError
    when anti-affinity cannot hold.
    """
    replicas = int(replicas)
    known = {_endpoint(n) for n in nodes}
    new_instances = [i for i in instances if _endpoint(i) not in known]
    if len(new_instances) % (replicas + 1):
        raise PlanError(
            f"{len(new_instances)} new instance(s) do not divide into shards of 1 master + {replicas} replica(s)"
        )
    ordered = _round_robin(new_instances, "address")
    count = len(ordered) // (replicas + 1)
    new_masters, pool = ordered[:count], ordered[count:]
    shards = _shards(nodes)
    # Replicas a new master has so far: new instances ({address}) and moved nodes ({ip}).
    planned = {_endpoint(m): [] for m in new_masters}
    joins, moves = [], []
    for master in new_masters:
        key = _endpoint(master)
        while len(planned[key]) < replicas:
            taken = [{"ip": r.get("address", r.get("ip"))} for r in planned[key]]
            direct = next((n for n in pool if _may_follow(n["address"], master["address"], taken)), None)
            if direct is not None:
                pool.remove(direct)
                planned[key].append(direct)
                joins.append(dict(direct, master=key))
                continue
            swap = _find_swap(shards, master["address"], taken, pool)
            if swap is None:
                raise PlanError(
                    f"no replica can follow the new master {key} on another host; add the new instances on "
                    "more hosts, or change the number of instances per host"
                )
            shard, replica, stand_in = swap
            pool.remove(stand_in)
            shard["replicas"] = [r for r in shard["replicas"] if r is not replica] + [
                {"ip": stand_in["address"], "port": stand_in["port"], "id": None}
            ]
            joins.append(dict(stand_in, master=_endpoint(shard["node"])))
            moves.append({"replica": replica, "master": key})
            planned[key].append(replica)
    # New instances left over (more replicas than the new masters need): beside
    # the existing masters with the fewest replicas.
    for item in pool:
        fits = [s for s in shards.values() if _may_follow(item["address"], s["node"]["ip"], s["replicas"])]
        if not fits:
            raise PlanError(f"the new instance {_endpoint(item)} has no master on another host to follow")
        shard = min(fits, key=lambda s: (len(s["replicas"]), _endpoint(s["node"])))
        shard["replicas"].append({"ip": item["address"], "port": item["port"], "id": None})
        joins.append(dict(item, master=_endpoint(shard["node"])))
    return {"masters": new_masters, "replicas": joins, "moves": moves}


def redis_cluster_remove_plan(nodes, address, replicas):
    """How the instances on the host at ``address`` leave the cluster without data loss or orphans.

    Its masters are emptied first (``empty``: their slots move to the other
    masters), the replicas that followed them elsewhere move to the remaining
    masters that lose a replica on this host (``moves``, anti-affinity kept),
    then every instance of the host is deleted, replicas first (``delete``).
    Raises PlanError when a remaining master would keep fewer than
    ``replicas`` replicas on other hosts, or when fewer than three masters
    would remain.
    """
    replicas = int(replicas)
    shards = _shards(nodes)
    leaving = [n for n in nodes if n["ip"] == address]
    if not leaving:
        raise PlanError(f"no instance of the cluster has the address {address}")
    staying = {i: s for i, s in shards.items() if s["node"]["ip"] != address}
    if len(staying) < 3:
        raise PlanError(f"only {len(staying)} master(s) would remain; a Redis Cluster needs three")
    free = sorted(
        (r for i, s in shards.items() if i not in staying for r in s["replicas"] if r["ip"] != address),
        key=_endpoint,
    )
    for shard in staying.values():
        shard["replicas"] = [r for r in shard["replicas"] if r["ip"] != address]
    moves = []
    for shard in sorted(staying.values(), key=lambda s: (len(s["replicas"]), _endpoint(s["node"]))):
        while len(shard["replicas"]) < replicas:
            pick = next((r for r in free if _may_follow(r["ip"], shard["node"]["ip"], shard["replicas"])), None)
            if pick is None:
                raise PlanError(
                    f"master {_endpoint(shard['node'])} would keep {len(shard['replicas'])} replica(s) on other "
                    f"hosts, fewer than {replicas}; add a host before removing {address}"
                )
            free.remove(pick)
            shard["replicas"].append(pick)
            moves.append({"replica": pick, "master": shard["node"]})
    for pick in free:
        fits = [s for s in staying.values() if _may_follow(pick["ip"], s["node"]["ip"], s["replicas"])]
        if not fits:
            raise PlanError(f"the replica {_endpoint(pick)} has no remaining master on another host to follow")
        shard = min(fits, key=lambda s: (len(s["replicas"]), _endpoint(s["node"])))
        shard["replicas"].append(pick)
        moves.append({"replica": pick, "master": shard["node"]})
    return {
        "empty": [n for n in leaving if n["role"] == "master"],
        "moves": moves,
        "delete": sorted(leaving, key=lambda n: (n["role"] == "master", int(n["port"]))),
    }


class FilterModule:
    def filters(self):
        return {
            "redis_cluster_plan": redis_cluster_plan,
            "redis_cluster_remove_plan": redis_cluster_remove_plan,
            "redis_cluster_scale_plan": redis_cluster_scale_plan,
            "redis_instances": redis_instances,
        }
