"""playbooks/patch.yml: the rolling order respects the platform (issue 8)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PLAYS = yaml.safe_load((REPO / "playbooks" / "patch.yml").read_text(encoding="utf-8"))


def hosts_order():
    return [play["hosts"] for play in PLAYS if "hosts" in play]


def play(hosts):
    return next(p for p in PLAYS if p.get("hosts") == hosts)


def test_tiers_in_order_redis_replicas_before_masters():
    order = hosts_order()
    wanted = [
        "backup",
        "db_mirror",
        "db_primary",
        "redis",
        "redis:&patching_redis_replicas",
        "redis:&patching_redis_masters",
        "search",
        "app",
    ]
    assert [h for h in order if h in wanted] == wanted


def test_every_patching_play_rolls_one_host_at_a_time_and_stops_on_failure():
    for p in PLAYS:
        if any(r.get("role") == "patching" for r in p.get("roles", [])):
            assert p["max_fail_percentage"] == 0, p["name"]
            assert p["serial"] in (1, "{{ patching_serial | default(1) }}"), p["name"]


def test_redis_hooks_use_the_redis_roles_rolling_restart():
    assert (REPO / "roles" / "redis" / "tasks" / "rolling_restart.yml").exists()
    masters = play("redis:&patching_redis_masters")["roles"][0]["vars"]
    replicas = play("redis:&patching_redis_replicas")["roles"][0]["vars"]
    assert "rolling_restart.yml" in masters["patching_hooks_before_apply"]
    assert "rolling_restart.yml" in masters["patching_hooks_after_apply"]
    assert "patching_hooks_before_apply" not in replicas
    assert "rolling_restart.yml" in replicas["patching_hooks_after_apply"]


def test_search_allocation_is_a_documented_hook():
    search = play("search")["roles"][0]["vars"]
    assert search["patching_hooks_before_apply"] == "{{ patching_search_hooks_before | default([]) }}"
    assert search["patching_hooks_after_apply"] == "{{ patching_search_hooks_after | default([]) }}"
