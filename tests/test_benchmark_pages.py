"""Published benchmark figures are measured, and their conclusions are computed (issue 21).

Every docs/benchmarks/<name>.json has a script under scripts/bench/ whose
markdown(data) builds docs/benchmarks/<name>.md from that JSON alone. Here:

- every committed page is rebuilt from its JSON and must be identical (nobody
  edits a page by hand; a script change that changes a page regenerates it);
- no JSON carries a hand-written note: only what the script measured and wrote;
- the summaries a script wrote into its JSON agree with the raw figures beside
  them (a hand-edited summary fails);
- each script's --report rebuilds the page from the JSON without running anything;
- the verdicts on the pages follow the figures (the same page builder, fed
  figures that say the opposite, says the opposite);
- READMEs and docs that link to a benchmark page do not repeat its figures next
  to the link, and no document claims "node timeout + 1 s" for a Redis
  failover while the benchmark's published series say otherwise.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import statistics
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "scripts" / "bench"
PAGES = REPO / "docs" / "benchmarks"

# docs/benchmarks/<page>.json -> scripts/bench/<script>.py
SCRIPTS = {
    "backup": "backup",
    "failover": "failover",
    "hardening": "hardening",
    "patching": "patching",
    "redis": "redis",
    "restore_drill": "restore_drill",
    "connection": "connection",
    "test-suite": "test_suite",
}
# Scripts whose --report this test drives against a scratch copy of the pages.
OWN_REPORTS = ("backup", "failover", "hardening", "patching", "redis", "restore_drill")
# "note" keys written by a machine, not by hand: the restore drill's own record, per table.
MACHINE_NOTES = {("drill", "tables", "*", "note")}


def load_script(script: str):
    """scripts/bench/<script>.py as a module (under a name of its own: `redis` is also a package)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    name = f"govops_bench_{script}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def figures(name: str) -> dict:
    return json.loads((PAGES / f"{name}.json").read_text(encoding="utf-8"))


def committed_page(script: str):
    """(the script as a module, its committed JSON, the page it builds from that JSON)."""
    module = load_script(script)
    data = figures(script)
    return module, data, module.markdown(data)


def committed() -> list[str]:
    return sorted(p.stem for p in PAGES.glob("*.json"))


def test_every_page_has_its_json_and_script():
    names = committed()
    assert {"backup", "failover", "hardening", "patching", "redis", "restore_drill"} <= set(names), names
    for name in names:
        assert name in SCRIPTS, f"docs/benchmarks/{name}.json has no script in SCRIPTS. Fix: add its script here."
        assert (BENCH / f"{SCRIPTS[name]}.py").is_file(), f"scripts/bench/{SCRIPTS[name]}.py is missing"
        assert (PAGES / f"{name}.md").is_file(), f"docs/benchmarks/{name}.md is missing. Fix: run its --report."
    orphans = sorted(p.stem for p in PAGES.glob("*.md") if not (PAGES / f"{p.stem}.json").is_file())
    assert not orphans, f"pages without figures (hand-written?): {orphans}"


@pytest.mark.parametrize("name", committed())
def test_page_is_rebuilt_from_its_json(name):
    module = load_script(SCRIPTS[name])
    page = (PAGES / f"{name}.md").read_text(encoding="utf-8")
    rebuilt = module.markdown(figures(name))
    assert rebuilt == page, (
        f"docs/benchmarks/{name}.md differs from markdown({name}.json). "
        f"Fix: python3 scripts/bench/{SCRIPTS[name]}.py --report (never edit the page by hand)."
    )


def notes_in(value, path=()):
    """Paths of every note/notes key in a JSON value."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in ("note", "notes"):
                found.append((*path, key))
            found += notes_in(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            found += notes_in(item, (*path, "*"))
    return found


@pytest.mark.parametrize("name", committed())
def test_json_has_no_hand_written_note(name):
    hand = [p for p in notes_in(figures(name)) if p not in MACHINE_NOTES]
    assert not hand, (
        f"docs/benchmarks/{name}.json has note keys {hand}: a page states only what the figures show. "
        "Fix: remove the note; make the script compute the statement, or re-run the benchmark."
    )


def test_note_detection_sees_nested_and_top_level_notes():
    data = {"note": "quiet machine", "runs": [{"notes": ["invalid"]}], "drill": {"tables": [{"note": "equal"}]}}
    found = [p for p in notes_in(data) if p not in MACHINE_NOTES]
    assert found == [("note",), ("runs", "*", "notes")]


def test_scripts_take_no_note_option():
    for script in OWN_REPORTS:
        text = (BENCH / f"{script}.py").read_text(encoding="utf-8")
        assert '"--note"' not in text, f"scripts/bench/{script}.py still takes --note: a hand-written sentence"


# ---------------------------------------------------------------- summaries agree with the raw figures


def test_failover_summary_agrees_with_its_runs():
    data = figures("failover")
    assert load_script("failover").summarise(data["runs"]) == data["summary"]


def test_redis_summaries_agree_with_repetitions_and_kills():
    data = figures("redis")
    module = load_script("redis")
    for pl, per_cmd in data["throughput"]["results"].items():
        for command, result in per_cmd.items():
            for target, values in result["runs"].items():
                expected = module.median([v for v in values if v])
                assert result["median"][target] == expected, (pl, command, target)
    for series in data["failover"]:
        values = [k["seconds"] for k in series["kills"]]
        assert (series["min"], series["max"]) == (min(values), max(values)), series["cluster_node_timeout_ms"]
        assert series["median"] == round(statistics.median(values), 3)
        assert series["promoted"] == sum(1 for k in series["kills"] if k["promoted_replica"])


def test_backup_summaries_agree_with_samples():
    data = figures("backup")
    assert load_script("backup").lag_summary(data["lag_samples"]) == data["lag"]
    assert data["ratios"]["restore_vs_plain_copy"] == round(
        data["restore"]["seconds"] / data["plain_copy"]["seconds"], 2
    )


def test_restore_drill_figures_are_the_drill_records():
    data = figures("restore_drill")
    assert data["figures"] == data["drill"]["figures"]
    assert data["verdict"] == data["drill"]["verdict"]
    assert data["checks"] == len(data["drill"]["checks"])
    assert data["checks_passed"] == sum(1 for c in data["drill"]["checks"] if c["status"] == "pass")
    restore = data["figures"]["restore_seconds"]
    copies = data["plain_copies"]
    assert data["ratios"]["restore_vs_plain_set"] == round(restore / copies["backup_set"]["seconds"], 2)
    assert data["ratios"]["restore_vs_plain_files"] == round(restore / copies["files"]["seconds"], 2)


def test_patching_summaries_agree_with_per_host_figures():
    for label, run in figures("patching")["runs"].items():
        assert run["max_out_of_service_seconds"] == max(run["out_of_service_seconds"].values()), label
        if "marks" in run:
            assert run["out_of_service_seconds"] == {h: round(u - d, 2) for h, (d, u) in run["marks"].items()}


# ---------------------------------------------------------------- --report, nothing run


@pytest.mark.parametrize("script", OWN_REPORTS)
def test_report_mode_rebuilds_the_page_from_the_json_alone(script, tmp_path, monkeypatch, capsys):
    module = load_script(script)
    benchlib = sys.modules["benchlib"]
    (tmp_path / f"{script}.json").write_text((PAGES / f"{script}.json").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(benchlib, "PAGES", tmp_path)

    def nothing_runs(*args, **kwargs):
        raise AssertionError(f"--report ran a command: {args[:1]}")

    monkeypatch.setattr(benchlib, "sh", nothing_runs)
    monkeypatch.setattr(module, "sh", nothing_runs, raising=False)
    monkeypatch.setattr(sys, "argv", [f"scripts/bench/{script}.py", "--report"])
    module.main()
    capsys.readouterr()
    assert (tmp_path / f"{script}.md").read_text(encoding="utf-8") == (PAGES / f"{script}.md").read_text(
        encoding="utf-8"
    )
    assert (tmp_path / f"{script}.json").read_text(encoding="utf-8") == (PAGES / f"{script}.json").read_text(
        encoding="utf-8"
    ), "--report must not rewrite the JSON"


def test_report_mode_without_figures_stops_with_the_fix(tmp_path, monkeypatch):
    module = load_script("failover")
    monkeypatch.setattr(sys.modules["benchlib"], "PAGES", tmp_path)
    monkeypatch.setattr(sys, "argv", ["scripts/bench/failover.py", "--report"])
    with pytest.raises(SystemExit) as stop:
        module.main()
    assert "failover.json is missing" in str(stop.value)
    assert "Fix: run the benchmark first" in str(stop.value)


@pytest.mark.parametrize("script", ["connection", "test_suite"])
def test_the_other_scripts_have_a_report_mode(script):
    text = (BENCH / f"{script}.py").read_text(encoding="utf-8")
    assert "def markdown(data" in text
    assert re.search(r"--report|\"report\"", text), f"scripts/bench/{script}.py has no report mode"


# ---------------------------------------------------------------- verdicts follow the figures


def test_load_sentence_follows_the_recorded_load():
    load_script("backup")
    benchlib = sys.modules["benchlib"]
    busy = benchlib.load_sentence({"nproc": 2, "load_average_at_start": [5.14, 1, 1]})
    idle = benchlib.load_sentence({"nproc": 2, "load_average_at_start": [1.12, 1, 1]})
    assert "5.14 on 2 cores, above the number of cores" in busy
    assert "1.12 on 2 cores, not above" in idle
    for text in (busy, idle):
        assert "quiet" not in text and "shared" not in text and "nothing else" not in text


def test_failover_verdicts_follow_the_runs():
    module = load_script("failover")
    data = figures("failover")
    assert "sync mode loses no acknowledged row: **达到 / met**" in module.markdown(data)
    lost = copy.deepcopy(data)
    next(r for r in lost["runs"] if r["mode"] == "sync")["acked_rows_lost"] = 4
    page = module.markdown(lost)
    assert "sync mode loses no acknowledged row: **未达到 / NOT met** (4 lost over 6 runs)" in page
    slow = copy.deepcopy(data)
    slow["runs"][0]["rto_seconds"] = 1900.0
    page = module.markdown(slow)
    assert "RTO: every run at most 1800 s (seed 003: 30 min): **未达到 / NOT met** (slowest 1900.0 s)" in page
    assert "not published: runs" in page, "a series whose runs disagree by more than 3x is published"
    assert "about 20 per second" not in module.markdown(data), "a rate the JSON does not hold"


def test_failover_page_shows_the_records_timeline_when_recorded():
    module = load_script("failover")
    data = copy.deepcopy(figures("failover"))
    for run in data["runs"]:
        run["timeline"] = {"fenced": 2.0, "promoted": 6.0, "write_verified": run["rto_seconds"]}
        run["rto_measured_from"] = "outage detected"
        run["rpo_seconds_bound"] = 0.4 if run["kind"] == "failover" else None
    page = module.markdown(data)
    assert "| 模式 Mode | fenced | promoted | write_verified |" in page
    assert "| async/failover | 2.0 | 6.0 | 20.1 |" in page
    assert "at most 0.4 s over 6 failovers, target 300 s: **达到 / met**" in page
    assert "failover RPO bound" not in module.markdown(figures("failover")), "not recorded in the committed run"


def test_redis_page_withholds_a_series_whose_kills_disagree():
    module, data, page = committed_page("redis")
    series = next(s for s in data["failover"] if s["mode"] == "host-lost" and s["cluster_node_timeout_ms"] == 1000)
    figures_1000 = [k["seconds"] for k in series["kills"]]
    assert f"1000 ms → {min(figures_1000):.2f}/" in page, "the committed run publishes its 1000 ms series"
    noisy = copy.deepcopy(data)
    series = next(s for s in noisy["failover"] if s["mode"] == "host-lost" and s["cluster_node_timeout_ms"] == 1000)
    for kill, seconds in zip(series["kills"], (2.6, 7.5, 7.8, 8.63, 7.7), strict=True):
        kill["seconds"] = seconds
    page = module.markdown(noisy)
    assert "| host lost (container paused) | 1000 | 5 | not published |" in page
    assert "The host-lost series at 1000 ms: its kills disagree by 3.32×" in page
    assert "1000 ms → 2.60/" not in page
    clean = copy.deepcopy(noisy)
    series = next(s for s in clean["failover"] if s["mode"] == "host-lost" and s["cluster_node_timeout_ms"] == 1000)
    for kill, seconds in zip(series["kills"], (2.6, 2.7, 2.9, 2.5, 2.8), strict=True):
        kill["seconds"] = seconds
    assert "1000 ms → 2.50/2.70/2.90 s" in module.markdown(clean)
    wrong = copy.deepcopy(clean)
    series = next(s for s in wrong["failover"] if s["mode"] == "host-lost" and s["cluster_node_timeout_ms"] == 1000)
    series["kills"][1]["node_timeouts_ms"] = [1000, 5000]
    page = module.markdown(wrong)
    assert "kill(s) 2 saw another timeout than its 1000 ms" in page
    assert "1000 ms → 2.50/2.70/2.90 s" not in page


def _redis_run_with_crash_path(crash_seconds):
    """The committed throughput with the failover series of a run since the crash hook (issue 23)."""
    module, data, _page = committed_page("redis")
    run = copy.deepcopy(data)

    def kills(seconds, timeout, hook):
        extra = {"hook_forced": True, "hook": ["...CLUSTER FAILOVER FORCE sent..."]} if hook else {}
        return [
            {
                "victim": f"bench-redis-{i % 3 + 1}:7000",
                "seconds": s,
                "served_by": "bench-redis-2:7001",
                "promoted_replica": True,
                "failed_writes": 3,
                "node_timeouts_ms": [timeout],
                **extra,
            }
            for i, s in enumerate(seconds)
        ]

    def series(mode, timeout, seconds, hook=False):
        return {
            "mode": mode,
            "cluster_node_timeout_ms": timeout,
            "budget_seconds": timeout / 1000 + 1,
            "kills": kills(seconds, timeout, hook),
        }

    run["failover"] = [
        series("crash", 5000, crash_seconds, hook=True),
        series("host-lost", 5000, [6.1, 6.4, 6.2, 6.9, 6.3]),
        series("host-lost", 1000, [2.1, 2.4, 2.2, 2.9, 2.3]),
    ]
    return module.markdown(run)


def test_redis_page_judges_the_seed_on_the_crash_path():
    page = _redis_run_with_crash_path([0.6, 0.7, 0.8, 0.9, 0.75, 0.65, 0.7, 0.8, 0.85, 0.6])
    assert "| kill -9, crash hook (as deployed) | 5000 | 10 | 0.60 | 0.72 | 0.90 | 10/10 |" in page
    assert "| host lost (container paused) | 1000 | 5 | 2.10 | 2.30 | 2.90 | 5/5 | 2.0 | verified |" in page
    assert (
        "Crash path (kill -9 of a master's process, the role's hook): 0.60/0.72/0.90 s over 10 kills,"
        " median within the 1 s goal; the hook forced the failover in 10 of 10 kills" in page
    )
    assert "host lost: 5000 ms → 6.10/6.30/6.90 s; 1000 ms → 2.10/2.30/2.90 s" in page
    assert "the seed's ≤ 1 s, judged on the crash path's median: met." in page
    assert "Above node timeout + 1 s at 5000 ms (median 6.30 s > 6.0 s), 1000 ms (median 2.30 s > 2.0 s)." in page
    assert "*crash* series" in page and "*host lost* series" in page and "*node stays down*" not in page
    slow = _redis_run_with_crash_path([1.4, 1.5, 1.6, 1.5, 1.5, 1.4, 1.6, 1.5, 1.5, 1.5])
    assert "median 0.50 s over the 1 s goal" in slow
    assert "the seed's ≤ 1 s, judged on the crash path's median: not met." in slow


def test_redis_cost_is_not_published_from_noise():
    module, data, _page = committed_page("redis")
    noisy = copy.deepcopy(data)
    for index, result in enumerate(r for per_cmd in noisy["throughput"]["results"].values() for r in per_cmd.values()):
        # Five of the eight figures' repetitions disagree by 5x: their ratios are not published.
        deployed = [80.0, 400.0, 80.0] if index < 5 else [80.0, 80.0, 80.0]
        result["runs"] = {"baseline": [100.0] * 3, "deployed": deployed, "cluster": [1.0] * 3}
    assert "not published: only 3 of the 8 deployed/baseline ratios" in module.markdown(noisy)
    steady = copy.deepcopy(data)
    for per_cmd in steady["throughput"]["results"].values():
        for result in per_cmd.values():
            result["runs"] = {"baseline": [100.0, 100.0, 100.0], "deployed": [80.0, 80.0, 80.0], "cluster": [1.0] * 3}
    assert "about 20.0% (median of the 8 publishable ratios of 8)" in module.markdown(steady)


def test_hardening_page_states_the_order_it_ran_and_its_run_count():
    module, data, page = committed_page("hardening")
    committed = module.runs_of(data)
    order = "; ".join(f"run {i + 1}: {' → '.join(run['order'])}" for i, run in enumerate(committed))
    assert f"in this order: {order}" in page
    assert f"{len(committed)} runs." in page and "fewer than the 3" not in page
    one = committed[0]
    single = {"date": data["date"], "command": data["command"], "machine": data["machine"], "runs": [one]}
    page = module.markdown(single)
    assert "This JSON holds 1 run per side, fewer than the 3 the script now makes" in page
    assert "**no verdict**, re-run needed" in page
    runs = []
    for index, seconds in enumerate((120.0, 130.0, 125.0)):
        run = copy.deepcopy(one)
        run["order"] = ["govops", "devsec"] if index % 2 == 0 else ["devsec", "govops"]
        run["rerun"] = {t: run["rerun"][t] for t in run["order"]}
        run["converge"]["govops"]["seconds"] = seconds
        run["converge"]["devsec"]["seconds"] = 229.8
        runs.append(run)
    three = {"date": data["date"], "command": data["command"], "machine": data["machine"], "runs": runs}
    page = module.markdown(three)
    assert "fewer than the 3" not in page
    assert "| converge (s) / 收敛时间 | — | 120.0 / 125.0 / 130.0 | 229.8 |" in page
    assert "run 1: govops → devsec; run 2: devsec → govops; run 3: govops → devsec" in page
    assert "Median converge time: govops 125.0 s, no more than dev-sec's 229.8 s (no more in 3 of 3 runs)" in page
    slow = copy.deepcopy(three)
    for run in slow["runs"]:
        run["converge"]["govops"]["seconds"] = 300.0
    assert "is **more** than dev-sec's" in module.markdown(slow)


def test_hardening_script_runs_each_side_at_least_three_times(monkeypatch):
    module = load_script("hardening")
    assert module.MIN_RUNS >= 3
    monkeypatch.setattr(sys, "argv", ["scripts/bench/hardening.py", "--runs", "1", "--devsec", "/nonexistent"])
    with pytest.raises(SystemExit) as stop:
        module.main()
    assert "at least 3 runs" in str(stop.value)


def test_patching_reading_follows_the_runs():
    module, data, page = committed_page("patching")
    assert "rolling: never more than one host out of service at a time" in page
    assert "naive: up to 3 of 3 hosts out of service at once; the whole tier was out for 27.39 s" in page
    overlap = copy.deepcopy(data)
    overlap["runs"]["rolling"]["max_hosts_out_of_service_at_once"] = 2
    page = module.markdown(overlap)
    assert "rolling: never more than one host" not in page
    assert "rolling: up to 2 of 3 hosts out of service at once" in page
    assert "reboot" not in module.reading(data)[1], "the JSON holds no reboot record: the page must not claim one"


def test_backup_page_computes_the_incremental_size():
    module = load_script("backup")
    data = figures("backup")
    assert "nearly as much as the full one" in module.markdown(data)
    small = copy.deepcopy(data)
    small["backups"]["incr"]["delta"] = data["backups"]["full"]["delta"] // 10
    page = module.markdown(small)
    assert "nearly as much" not in page
    assert "a fraction of the full one" in page


def test_restore_drill_verdict_follows_the_figures():
    module = load_script("restore_drill")
    data = copy.deepcopy(figures("restore_drill"))
    data["figures"]["rto_seconds"] = 2000.0
    assert "RTO 2000.0 s，目标 / target 1800 s: **未达到 / NOT met**" in module.markdown(data)


# ---------------------------------------------------------------- documents link, they do not repeat

FIGURE = re.compile(r"\d+(?:\.\d+)?\s?(?:s|ms|秒|GiB|MiB/s|ops/s|k ops/s|×)(?![\w/])|\d+(?:\.\d+)?k\b")
DOCS = [
    p
    for p in [*REPO.glob("*.md"), *REPO.glob("docs/*.md"), *REPO.glob("roles/*/README.md")]
    if "benchmarks" not in p.parts
]


def blocks(text: str) -> list[str]:
    """Paragraphs and list items of a Markdown text."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        out += re.split(r"\n(?=\s*(?:[-*]|\d+\.) )", para)
    return out


def test_documents_link_to_benchmark_pages_without_repeating_figures():
    offenders = []
    for doc in DOCS:
        for block in blocks(doc.read_text(encoding="utf-8")):
            if "benchmarks/" in block and FIGURE.search(block):
                offenders.append(f"{doc.relative_to(REPO)}: {FIGURE.search(block).group(0)!r} in {block[:80]!r}")
    assert not offenders, (
        "figures repeated next to a benchmark link (they go stale): "
        + "; ".join(offenders)
        + ". Fix: link to the page only, or check the figure against the JSON in this test."
    )


def test_figure_pattern_catches_what_the_readmes_used_to_say():
    for old in ("RTO 29.3 s (restore 14.7 s", "7.1 / 8.0 / 9.2 s", "SET 12.5k / GET 38.9k ops/s", "noise up to 15×"):
        assert FIGURE.search(old), old
    assert not FIGURE.search("redis-benchmark against a default redis-server, per node timeout")


CLAIM = re.compile(r"(?:timeout|this)\s*\+\s*(?:about\s+)?1\s*s\b|超时\s*\+\s*1\s*秒", re.IGNORECASE)


def test_claim_pattern_catches_what_the_redis_docs_used_to_say():
    for old in (
        "measures it (about node timeout\n  + 1 s)",
        "ms; failover takes about this + 1 s",
        "约超时 + 1 秒",
        "The failover time is about node timeout + 1 s;",
    ):
        assert CLAIM.search(old), old
    assert not CLAIM.search("a failover takes longer than the node timeout")


def test_no_document_claims_timeout_plus_one_second_against_the_measurement():
    data = figures("redis")
    module = load_script("redis")
    published = [s for s in module.failover_series(data) if s["mode"] == "failover" and s["published"]]
    holds = bool(published) and all(s["median"] <= s["budget"] for s in published)
    files = [*DOCS, REPO / "roles" / "redis" / "defaults" / "main.yml", *REPO.glob("molecule/redis/*.yml")]
    claims = [f.relative_to(REPO) for f in files if CLAIM.search(f.read_text(encoding="utf-8"))]
    if not holds:
        assert not claims, (
            f"{claims} say a Redis failover takes about node timeout + 1 s; docs/benchmarks/redis.json's published "
            "series do not (median above timeout + 1 s). Fix: link to docs/benchmarks/redis.md instead."
        )


# ---------------------------------------------------------------- what the next runs record, on the page


def built_from(script: str, record, build: str = "markdown"):
    """What a script builds (build: markdown or reading) from its committed JSON after record(data) adds to a copy."""
    module = load_script(script)
    data = copy.deepcopy(figures(script))
    record(data)
    return getattr(module, build)(data)


def _repository_settings(data):
    data["repository"] = {"compress-type": "zst", "repo1-cipher-type": "aes-256-cbc", "backup-standby": "y"}
    data["load_average_at_end"] = [1.0, 1.0, 1.0]


def _reboots(data):
    for run in data["runs"].values():
        run["records"] = {
            h: {"verdict": "success", "reboot_required": True, "rebooted": False} for h in run["out_of_service_seconds"]
        }


def _verified_timeouts(data):
    for series in data["failover"]:
        for kill in series["kills"]:
            kill["node_timeouts_ms"] = [series["cluster_node_timeout_ms"]]
    data["duration_seconds"] = 1500


def test_backup_page_states_the_recorded_repository_settings():
    unrecorded = built_from("backup", lambda data: None)
    assert "Repository settings" not in unrecorded, "the committed run recorded none: say nothing"
    page = built_from("backup", _repository_settings)
    assert "compression zst, encryption aes-256-cbc, backups taken from the mirror." in page
    assert "Block-level incremental (repo1-block) was off in this run" in page
    assert "1-minute load average at the start and at the end: 5.14 and 1.0 on 2 cores" in page


def test_patching_page_states_the_recorded_reboots():
    zh, en = built_from("patching", _reboots, build="reading")
    assert "6 of 6 host patches asked for a reboot, 0 rebooted" in en
    assert "a real host adds its reboot" in en
    assert "6 次主机补丁中 6 次需要重启" in zh


def test_redis_page_states_verified_timeouts_and_duration():
    page = built_from("redis", _verified_timeouts)
    assert "Before every kill the script read the timeout back from all six instances" in page
    assert "| 6.0 | verified |" in page
    assert "This run took 25 min." in page


def _redis_run_with_stress(spurious_at=(500,), drop_wait_loss=0):
    """The committed run plus TLS-off throughput, acknowledged-write counts and stress windows (issue 23)."""
    module, data, _page = committed_page("redis")
    run = copy.deepcopy(data)
    run["deployment"] = {**run.get("deployment", {}), "tls": True, "role_timeout_floor_ms": 1000}
    off = copy.deepcopy(run["throughput"])
    for per_cmd in off["results"].values():
        for result in per_cmd.values():
            result["runs"]["deployed"] = [v * 1.25 if v else v for v in result["runs"]["deployed"]]
    run["throughput_tls_off"] = off
    for series in run["failover"]:
        for kill in series["kills"]:
            kill["acked_writes"] = {"plain": 1000, "wait": 900, "wait_master_only": 50}
            kill["lost_acked_writes"] = {"plain": 2, "wait": drop_wait_loss}
    run["stress_settings"] = {
        "seconds": 60,
        "cpu_loops_per_container": 3,
        "net_rate_kbit": 2000,
        "net_latency_ms": 100,
        "net_flood": 1.0,
    }
    run["stress"] = []
    for series in run["failover"]:
        if series["mode"] != "host-lost":
            continue
        ms = series["cluster_node_timeout_ms"]
        for kind in ("cpu", "network"):
            window = {
                "kind": kind,
                "cluster_node_timeout_ms": ms,
                "seconds": 60,
                "node_timeouts_ms": [ms],
                "promotions": 1 if ms in spurious_at and kind == "network" else 0,
                "elections": 1 if ms in spurious_at and kind == "network" else 0,
                "nodes_failed": 0,
                "suspicions": 4,
                "writes": 5000,
                "failed_writes": 7,
                "write_ms_p50": 1.5,
                "write_ms_p99": 110.0,
                "write_ms_max": 420.0,
            }
            if kind == "network":
                window |= {"packets_sent": 9000, "packets_dropped": 1000}
            run["stress"].append(window)
    return module, run


def test_redis_page_tls_cost_acknowledged_writes_and_stress():
    module, run = _redis_run_with_stress()
    page = module.markdown(run)
    verdict = module.verdicts(run)
    # Every TLS-on figure is 0.8 of its TLS-off figure: the cost is 20 %, from the two deployments.
    assert verdict["tls_cost_percent"] == 20.0
    assert "TLS costs about 20.0% of per-node throughput" in page
    assert "| deployed TLS off | deployed TLS on | TLS on / off |" in page
    kills = sum(len(s["kills"]) for s in run["failover"])
    assert f"In all: {2 * kills:,} plain, 0 WAIT." in page
    assert "| 500 | network | 60 | 1 | 1 | 0 | 4 | 7 / 5,000 | 1.5 / 110.0 / 420.0 | 1,000 of 10,000 |" in page
    timeouts = sorted(s["cluster_node_timeout_ms"] for s in run["failover"] if s["mode"] == "host-lost")
    published = {s["timeout_ms"] for s in verdict["series"] if s["mode"] == "host-lost" and s["published"]}
    expected = min((ms for ms in timeouts if ms >= 1000 and ms != 500 and ms in published), default=None)
    assert verdict["stress"]["recommended"] == expected
    if expected is not None:
        assert f"the fastest failover with no spurious failover under both stresses is at {expected} ms" in page
    # A spurious failover at every timeout: nothing is chosen, and the page says so.
    module, everywhere = _redis_run_with_stress(spurious_at=tuple(timeouts))
    page = module.markdown(everywhere)
    assert module.verdicts(everywhere)["stress"]["recommended"] is None
    assert "the default is not chosen by this run" in page


def test_redis_default_node_timeout_is_the_benchmark_choice():
    """roles/redis ships the node timeout docs/benchmarks/redis.json justifies (issue 23)."""
    module = load_script("redis")
    data = figures("redis")
    assert data.get("stress"), "docs/benchmarks/redis.json has no stress windows: run scripts/bench/redis.py"
    chosen = module.verdicts(data)["stress"]["recommended"]
    assert chosen is not None, "the committed run qualifies no node timeout; re-run scripts/bench/redis.py"
    defaults = (REPO / "roles" / "redis" / "defaults" / "main.yml").read_text(encoding="utf-8")
    shipped = int(re.search(r"^redis_cluster_node_timeout:\s*(\d+)", defaults, re.MULTILINE).group(1))
    assert shipped == chosen, (
        f"roles/redis/defaults/main.yml ships redis_cluster_node_timeout: {shipped}; docs/benchmarks/redis.md "
        f"chooses {chosen} ms (fastest failover with no spurious failover under stress). Fix: set it to {chosen}."
    )
