#!/usr/bin/env python3
"""The repository's test suite: what `./govops test` and CI (.ci/run) run.

Stages, in order: setup (scripts/setup.sh: apt packages, venv, images, lab
secrets), lint-yaml, lint-ansible, lint-python, unit, syntax, then one stage per
Molecule scenario (molecule/<name>/). Every stage runs even when an earlier one
failed; the exit code is non-zero when any failed.

Each stage prints `wall-time: <stage> <seconds>s <status>` when it ends (what CI
logs are grepped for), and its whole output also goes to
.cache/test-logs/<run id>/<stage>.log, each line stamped with the seconds since
the stage began. The run closes with a table: per stage
its wall time, its result and the machine's load while it ran, the total, and
whether a full run met the budget (45 minutes on 2 cores, issue 17). The same
figures are written to .cache/test-runs/<run id>.json, from which
scripts/bench/test_suite.py builds docs/benchmarks/test-suite.md.

Usage:
  scripts/testsuite.py [all]                     every stage (CI)
  scripts/testsuite.py lint | unit | syntax      one group of stages
  scripts/testsuite.py molecule [SCENARIO ...]   Molecule scenarios (default: all)
  scripts/testsuite.py --changed [--base REF]    only what the working tree's changes touch
                                                 (scripts/test_plan.py; CI always runs all)
  --jobs N    run up to N stages at once after setup (default: $GOVOPS_TEST_JOBS or 2,
              the two cores of the CI machine; the closing table shows the load),
              longest first by the last run's times; with N > 1 each stage's
              output goes to its log only, and a failed stage's last lines are
              printed when it ends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import test_plan  # noqa: E402  (scripts/ is not a package)

CACHE = Path(os.environ.get("CACHE_DIR", REPO / ".cache"))
# The whole suite on a clean clone, 2 cores (issue 17): 45 minutes, inside
# CI's 60-minute rule and its 90-minute hard stop.
BUDGET_SECONDS = 45 * 60
LOAD_PERIOD = 5.0
FAILED_TAIL_LINES = 150
# Lines that say why a stage failed: Ansible's fatal/UNREACHABLE/FAILED lines,
# Molecule's ERROR/CRITICAL, Python tracebacks, pytest's summary and E lines.
ERROR_PATTERN = re.compile(r"UNREACHABLE!|fatal: \[|FAILED!|\b(ERROR|CRITICAL)\b|Traceback|^\s*[\d.]+s (FAILED |E  )")
ERROR_LINES = 80

STATIC_STAGES = {
    "lint": [
        ("lint-yaml", ["yamllint", "--strict", "."]),
        ("lint-ansible", ["ansible-lint", "--profile", "production", "--offline"]),
        ("lint-python", ["bash", "-c", "ruff check . && ruff format --check ."]),
    ],
    "unit": [("unit", ["pytest"])],
    "syntax": [("syntax", ["bash", str(REPO / "scripts" / "syntax-check.sh")])],
}


@dataclass
class Stage:
    name: str
    command: list[str]
    seconds: float = 0.0
    result: str = "not run"
    load_mean: float | None = None
    load_max: float | None = None
    log: str = ""
    started: float = field(default=0.0, repr=False)


class LoadSampler(threading.Thread):
    """Reads the 1-minute load average every LOAD_PERIOD seconds."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), os.getloadavg()[0]))
            self._stop_event.wait(LOAD_PERIOD)

    def stop(self) -> None:
        self._stop_event.set()

    def window(self, start: float, end: float) -> tuple[float | None, float | None]:
        values = [load for when, load in self.samples if start <= when <= end]
        if not values:
            values = [os.getloadavg()[0]]
        return round(sum(values) / len(values), 1), round(max(values), 1)


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def scenarios() -> list[str]:
    return sorted(path.parent.name for path in (REPO / "molecule").glob("*/molecule.yml"))


def molecule_stage(name: str) -> Stage:
    return Stage(f"molecule-{name}", ["molecule", "test", "--scenario-name", name])


def plan(what: str, names: list[str], changed: bool, base: str | None) -> list[Stage]:
    stages: list[Stage] = [Stage("setup", ["bash", str(REPO / "scripts" / "setup.sh")])]
    if changed:
        selected = test_plan.plan(test_plan.changed_files(base))
        for group in ("lint", "unit", "syntax"):
            stages += [Stage(n, c) for n, c in STATIC_STAGES[group] if n in selected["stages"]]
        stages += [molecule_stage(s) for s in selected["scenarios"]]
        chosen = ", ".join(s.name for s in stages[1:]) or "nothing"
        log(f"--changed: {len(selected['files'])} changed files -> {chosen}")
        return stages
    if what == "all":
        for group in ("lint", "unit", "syntax"):
            stages += [Stage(n, c) for n, c in STATIC_STAGES[group]]
        names = scenarios()
    elif what in STATIC_STAGES:
        return stages + [Stage(n, c) for n, c in STATIC_STAGES[what]]
    elif what == "molecule":
        unknown = sorted(set(names) - set(scenarios()))
        if unknown:
            sys.exit(f"error: no Molecule scenario {', '.join(unknown)}. Fix: use one of {', '.join(scenarios())}.")
        names = names or scenarios()
    else:
        sys.exit(f"error: unknown stage '{what}'. Fix: use lint, unit, syntax, molecule or nothing (all).")
    return stages + [molecule_stage(n) for n in names]


def run_stage(stage: Stage, log_dir: Path, sampler: LoadSampler, echo: bool) -> None:
    stage.log = str(log_dir / f"{stage.name}.log")
    stage.started = time.time()
    if echo:
        print(flush=True)
        log(f"stage {stage.name}")
    with open(stage.log, "w", encoding="utf-8", buffering=1) as out:
        proc = subprocess.Popen(  # noqa: S603
            stage.command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
        for line in proc.stdout or []:
            # The log keeps the seconds since the stage began on every line:
            # where a scenario spends its time, without a profiler.
            out.write(f"{time.time() - stage.started:7.1f}s {line}")
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
        rc = proc.wait()
    end = time.time()
    stage.seconds = round(end - stage.started, 1)
    stage.result = "ok" if rc == 0 else f"FAILED(rc={rc})"
    stage.load_mean, stage.load_max = sampler.window(stage.started, end)
    print(f"wall-time: {stage.name} {round(stage.seconds)}s {stage.result}", flush=True)
    if rc != 0 and not echo:
        lines = Path(stage.log).read_text(encoding="utf-8", errors="replace").splitlines()
        # The tail shows how the stage ended; the reason is often earlier (an
        # UNREACHABLE host, the first fatal task), and CI keeps only what is printed.
        errors = error_lines(lines)
        if errors:
            print(f"---- error lines of {stage.log} (first {len(errors)}) ----", flush=True)
            print("\n".join(errors), flush=True)
        print(f"---- last {FAILED_TAIL_LINES} lines of {stage.log} ----", flush=True)
        print("\n".join(lines[-FAILED_TAIL_LINES:]), flush=True)


def error_lines(lines: list[str], limit: int = ERROR_LINES) -> list[str]:
    """The lines that say why a stage failed (fatal/UNREACHABLE/FAILED/ERROR/Traceback, pytest's
    failure lines) with the two lines after each, at most `limit` lines, in log order."""
    picked: list[int] = []
    for number, line in enumerate(lines):
        if ERROR_PATTERN.search(line):
            picked.extend(range(number, min(number + 3, len(lines))))
    seen: set[int] = set()
    ordered = [n for n in picked if not (n in seen or seen.add(n))]
    return [lines[n] for n in ordered[:limit]]


def longest_first(stages: list[Stage]) -> list[Stage]:
    """Order by the wall time of the last run that ran each stage (unknown ones first): the longest
    scenario starts at once instead of last, which keeps the parallel run short. A clean clone has
    no run of its own yet and uses the published cold run (docs/benchmarks/test-suite.json)."""
    last: dict[str, float] = {}
    published = REPO / "docs" / "benchmarks" / "test-suite.json"
    if published.exists():
        for stage in json.loads(published.read_text(encoding="utf-8"))["cold"]["stages"]:
            last[stage["name"]] = stage["seconds"]
    for record in sorted((CACHE / "test-runs").glob("*.json")):
        for stage in json.loads(record.read_text(encoding="utf-8")).get("stages", []):
            last[stage["name"]] = stage["seconds"]
    return sorted(stages, key=lambda s: -last.get(s.name, float("inf")))


def run_parallel(stages: list[Stage], jobs: int, log_dir: Path, sampler: LoadSampler) -> None:
    pending = longest_first(stages)
    running: list[threading.Thread] = []
    while pending or running:
        running = [thread for thread in running if thread.is_alive()]
        while pending and len(running) < jobs:
            stage = pending.pop(0)
            log(f"stage {stage.name} started (log: {log_dir / (stage.name + '.log')})")
            thread = threading.Thread(target=run_stage, args=(stage, log_dir, sampler, False))
            thread.start()
            running.append(thread)
        time.sleep(1)


def git(*args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603, S607
    return proc.stdout.strip()


def machine() -> dict:
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        mem_kib = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal:")))
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1), "kernel": platform.release()}


def summary(stages: list[Stage], total: float, full: bool) -> dict:
    print(flush=True)
    log("wall time per stage (load: 1-minute load average while the stage ran, mean / max)")
    print(f"  {'stage':28} {'seconds':>8}  {'load':>11}  result")
    for stage in stages:
        load = f"{stage.load_mean} / {stage.load_max}" if stage.load_mean is not None else "-"
        print(f"  {stage.name:28} {round(stage.seconds):>8}  {load:>11}  {stage.result}")
    print(f"  {'total':28} {round(total):>8}")
    verdict = None
    if full:
        verdict = total <= BUDGET_SECONDS
        state = "met" if verdict else "NOT met"
        print(f"  budget: {BUDGET_SECONDS}s for the whole suite on {os.cpu_count()} cores: {state}")
    return {"budget_seconds": BUDGET_SECONDS if full else None, "budget_met": verdict}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--changed", action="store_true")
    parser.add_argument("--base", default=None)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("GOVOPS_TEST_JOBS", "2")))
    args = parser.parse_args()
    if args.jobs < 1:
        sys.exit("error: --jobs must be 1 or more. Fix: use --jobs 1 (one scenario at a time) or 2.")

    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = CACHE / "test-logs" / run_id
    log_dir.mkdir(parents=True, exist_ok=True)
    stages = plan(args.what, args.names, args.changed, args.base)
    images_before = subprocess.run(
        ["podman", "images", "--noheading", "--format", "{{.Repository}}:{{.Tag}}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    record = {
        "run_id": run_id,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "what": "changed" if args.changed else args.what,
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain")),
        "ci": os.environ.get("CI") == "true",
        "jobs": args.jobs,
        "machine": machine(),
        "cached_at_start": {
            "venv": (REPO / ".venv" / "bin" / "ansible-playbook").exists(),
            "images": sorted(i for i in images_before if i.startswith("localhost/govops-")),
        },
    }
    sampler = LoadSampler()
    sampler.start()
    start = time.time()
    # Setup comes first (the venv and the images everything else needs); with
    # --jobs > 1 every other stage, lint and unit tests included, shares the pool.
    serial = [s for s in stages if s.name == "setup"] if args.jobs > 1 else stages
    for stage in serial:
        run_stage(stage, log_dir, sampler, echo=True)
        if stage.name == "setup":
            # lib.sh read the vault password before setup could make it.
            password = Path(os.environ.get("LAB_STATE_DIR", REPO / ".lab")) / "vault-password"
            if password.exists():
                os.environ["ANSIBLE_VAULT_IDENTITY_LIST"] = f"lab@{password}"
    if args.jobs > 1:
        run_parallel([s for s in stages if s.name != "setup"], args.jobs, log_dir, sampler)
    total = time.time() - start
    sampler.stop()

    full = args.what == "all" and not args.changed
    record.update(summary(stages, total, full))
    record["total_seconds"] = round(total, 1)
    record["stages"] = [{k: v for k, v in asdict(s).items() if k not in ("command", "started")} for s in stages]
    runs = CACHE / "test-runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{run_id}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = [s.name for s in stages if s.result != "ok"]
    if failed:
        print(f"failed stages: {' '.join(failed)}")
    print(f"test-stages: {len(stages) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
