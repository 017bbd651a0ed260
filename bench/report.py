#!/usr/bin/env python3
"""Writes bench/RESULTS.md from one run of tools/bench.sh.

Inputs: Google Benchmark's JSON from //bench:process_bench (repetitions of
"<operation>/procspec" and "<operation>/floor"), bench/cpython_bench.py's JSON,
and facts about the machine. Every figure is a median over repetitions of the
mean time of one iteration; a ratio is a ratio of two such medians from the
same run. bench/ANALYSIS.md (hand-written: profiles, what bounds a missed
target) is appended verbatim.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys

# (label, procspec benchmark, floor benchmark, floor label, target ratio or
# None, target text, CPython benchmark). The "minimal_*" floors are those of a
# minimal statically linked C program (bench/minimal_floor.c), the floor a
# user would pick; the others run in procspec's own benchmark binary.
MINIMAL_FORK = "minimal static C program: fork + _exit + waitpid"
MINIMAL_SPAWN = "minimal static C program: posix_spawn of itself + waitpid"
ROWS = [
    ("start+join, fork", "fork_start_join", "minimal_fork", MINIMAL_FORK,
     1.5, "≤ 1.5× minimal floor", "fork_start_join"),
    ("start+join, fork (same-binary floor)", "fork_start_join",
     "fork_start_join", "fork + _exit + waitpid in procspec's binary", None,
     "(informational)", "fork_start_join"),
    ("start+join, spawn", "spawn_start_join", "minimal_spawn", MINIMAL_SPAWN,
     3.0, "≤ 3× minimal floor and ≥ 40× faster than CPython",
     "spawn_start_join"),
    ("start+join, spawn (same-binary floor)", "spawn_start_join",
     "spawn_start_join", "posix_spawn (same binary, `--exit`) + waitpid",
     None, "(informational)", "spawn_start_join"),
    ("start+join, forkserver", "forkserver_start_join", "minimal_fork",
     MINIMAL_FORK, 2.0, "≤ 2× minimal fork floor", "forkserver_start_join"),
    ("start+join, forkserver (same-binary fork floor)",
     "forkserver_start_join", "fork_start_join",
     "fork + _exit + waitpid in procspec's binary", None, "(informational)",
     "forkserver_start_join"),
    ("join wake-up after the child's exit, fork", "join_wakeup", "join_wakeup",
     "blocking waitid(WNOWAIT) on the same kind of child", 1.1,
     "≤ 1.1× floor", "join_wakeup"),
    ("join wake-up after the child's exit, forkserver",
     "forkserver_join_wakeup", "join_wakeup",
     "blocking waitid(WNOWAIT) on a fork child",
     None, "(informational)", "forkserver_join_wakeup"),
    ("terminate → join, fork", "terminate_join", "terminate_join",
     "kill(SIGTERM) + waitpid", None, "(none set)", "terminate_join"),
] + [
    row
    for n in (10, 100, 1000)
    for row in (
        (f"start+join of {n} children at once, fork", f"start_join_{n}",
         f"minimal_many_{n}",
         f"minimal static C program: {n} × fork, then {n} × waitpid", None,
         "(the curve)", f"start_join_{n}"),
        (f"start+join of {n} children at once, fork (same-binary floor)",
         f"start_join_{n}", f"start_join_{n}",
         f"{n} × fork, then {n} × waitpid in procspec's binary", None,
         "(the curve)", f"start_join_{n}"),
    )
] + [
    ("Pipe round trip, 8-byte message", "pipe_round_trip", "pipe_round_trip",
     "raw pipe ping-pong", 1.3, "≤ 1.3× floor", "pipe_round_trip"),
    ("Queue, small messages, parent → child (per message)",
     "queue_small_messages", "queue_small_messages",
     "raw pipe stream of the same bytes (21-byte records)", 2.0,
     "≤ 2× floor", "queue_small_messages"),
] + [
    (f"Queue throughput, {label} items, parent → child (per item)",
     f"queue_bytes_{size}", f"queue_bytes_{size}",
     "raw pipe stream of the same payload bytes", None, "(the curve)",
     f"queue_bytes_{size}")
    for size, label in ((8, "8 B"), (1024, "1 KiB"), (65536, "64 KiB"),
                        (1048576, "1 MiB"))
] + [
    ("Lock acquire+release, uncontended", "lock_uncontended",
     "lock_uncontended", "futex lock in shared memory (CAS, atomic decrement)",
     1.5, "≤ 1.5× floor", "lock_uncontended"),
    ("Lock, two-process ping-pong (per round trip: two hand-overs)",
     "lock_ping_pong", "lock_ping_pong", "two futex locks in shared memory",
     None, "(none set)", "lock_ping_pong"),
]

PENDING = "not measured: the type is not on this branch yet"

# Benchmarks whose iteration is a batch: figures are divided by its size (per
# message). As process_bench.cc's kQueueBatch and QueueBySize counts, and
# cpython_bench.py's.
PER_ITEM = {"queue_small_messages": 20000, "queue_bytes_8": 20000,
            "queue_bytes_1024": 5000, "queue_bytes_65536": 300,
            "queue_bytes_1048576": 20}

# procspec's spawn must be at least this many times faster than CPython's.
SPAWN_SPEEDUP_TARGET = 40


def to_us(value, unit):
    return value * {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[unit]


def load_google_benchmark(path):
    """name -> list of per-repetition times (µs), plus the context."""
    with open(path) as f:
        data = json.load(f)
    reps = {}
    for run in data["benchmarks"]:
        if run.get("run_type") != "iteration":
            continue
        if run.get("error_occurred"):
            raise SystemExit(f"{run['name']}: {run.get('error_message')}")
        # "fork_start_join/floor/iterations:200/real_time" -> the name given.
        name = run["run_name"].split("/iterations:")[0]
        reps.setdefault(name, []).append(to_us(run["real_time"],
                                               run["time_unit"]))
    return reps, data.get("context", {})


def fmt_us(us):
    if us is None:
        return "–"
    if us < 1:
        return f"{us * 1000:.1f} ns"
    if us >= 10000:
        return f"{us / 1000:.1f} ms"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    if us >= 100:
        return f"{us:.0f} µs"
    if us >= 10:
        return f"{us:.1f} µs"
    return f"{us:.2f} µs"


def compare_to_cpython(ours, theirs):
    if not theirs:
        return "–"
    ratio = ours / theirs
    if ratio <= 1:
        speedup = 1 / ratio
        return (f"{ratio:.3f} ({speedup:.1f}× faster)" if speedup < 10 else
                f"{ratio:.3f} ({speedup:.0f}× faster)")
    return f"{ratio:.2f} ({ratio:.1f}× slower)"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--procspec", required=True)
    parser.add_argument("--cpython", required=True)
    parser.add_argument("--procspec_normal", default="",
                        help="a second process_bench run under normal "
                        "scheduling, for an extra ratio column")
    parser.add_argument("--date", default="",
                        help="when the run was (default: now)")
    parser.add_argument("--load_before", default="")
    parser.add_argument("--load_after", default="")
    parser.add_argument("--repetitions", default="")
    parser.add_argument("--suite_seconds", default="")
    parser.add_argument("--suite_tests", default="")
    parser.add_argument("--priority", default="")
    parser.add_argument("--analysis", default="")
    args = parser.parse_args()

    reps, context = load_google_benchmark(args.procspec)
    normal = {}
    if args.procspec_normal and os.path.exists(args.procspec_normal):
        normal, _ = load_google_benchmark(args.procspec_normal)
    with open(args.cpython) as f:
        cpython = json.load(f)
    py = cpython["results"]

    def per_item(name):
        return PER_ITEM.get(name.split("/")[0], 1)

    def median(name):
        values = reps.get(name)
        return statistics.median(values) / per_item(name) if values else None

    out = []
    w = out.append
    w("# procspec benchmarks: latest result")
    w("")
    w("Written by `tools/bench.sh` (see README.md, \"Benchmarks\"); do not edit "
      "by hand: the analysis at the end comes from `bench/ANALYSIS.md`.")
    w("")
    w("## Machine and run")
    w("")
    when = args.date or (
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    w(f"- Date: {when}")
    w(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores "
      f"(Google Benchmark: {context.get('num_cpus', '?')} CPUs at "
      f"{context.get('mhz_per_cpu', '?')} MHz, "
      f"frequency scaling {'on' if context.get('cpu_scaling_enabled') else 'off'})")
    w(f"- Kernel: {platform.system()} {platform.release()}; "
      f"{cpython.get('python', 'CPython')}; procspec backend "
      f"`{context.get('procspec_backend', '?')}`, built `-c opt`")
    w(f"- Load average (1, 5, 15 min) before: {args.load_before or '?'}; "
      f"after: {args.load_after or '?'}")
    w("- **The machine was shared** with other jobs (compilers and test suites "
      "of other sessions) during the run: absolute times are inflated and "
      "noisy; the floors ran in the same run, interleaved at random with "
      "the operations (`--benchmark_enable_random_interleaving`): the "
      "same-binary floors in procspec's benchmark binary, the minimal ones "
      "in `bench/minimal_floor.c` (a static C program the benchmark runs), "
      "so the ratios are the figures to read.")
    if args.priority:
        w(f"- Scheduling: {args.priority}")
    w(f"- Each figure: the median over {args.repetitions or '?'} repetitions "
      "of the mean time of one iteration (iteration counts: "
      "`bench/process_bench.cc`, the same in `bench/cpython_bench.py`). "
      "Wake-up and terminate rows time only the interval named "
      "(manual timing).")
    w("")
    w("## Results")
    w("")
    extra = " ratio, normal scheduling |" if normal else ""
    w("| operation | procspec | floor (same run) | ratio to floor | target | "
      "met | CPython 3.11 | procspec ÷ CPython |" + extra)
    w("|---|---:|---|---:|---|:-:|---:|---:|" + ("---:|" if normal else ""))

    def normal_ratio(op, fl):
        ours = normal.get(f"{op}/procspec")
        base = normal.get(f"{fl}/floor")
        if not ours or not base:
            return " – |" if normal else ""
        return f" {statistics.median(ours) / statistics.median(base):.2f}× |"
    for (label, op, fl, floor_label, target, target_text, py_name) in ROWS:
        ours = median(f"{op}/procspec")
        base = median(f"{fl}/floor")
        theirs = py.get(py_name, {}).get("median_us")
        if theirs is not None:
            theirs /= PER_ITEM.get(py_name, 1)
        if ours is None:
            w(f"| {label} | – | {floor_label} | – | {target_text} | – | "
              f"{fmt_us(theirs)} | {PENDING} |" + normal_ratio(op, fl))
            continue
        ratio = ours / base if base else None
        met = "–"
        if target is not None and ratio is not None:
            met = "yes" if ratio <= target else "**no**"
        if op == "spawn_start_join" and target is not None and theirs:
            fast_enough = theirs / ours >= SPAWN_SPEEDUP_TARGET
            met = ("yes" if ratio is not None and ratio <= target and
                   fast_enough else "**no**")
        ratio_text = f"{ratio:.2f}×" if ratio is not None else "–"
        vs_py = compare_to_cpython(ours, theirs)
        w(f"| {label} | {fmt_us(ours)} | {fmt_us(base)} ({floor_label}) | "
          f"{ratio_text} | {target_text} | {met} | {fmt_us(theirs)} | "
          f"{vs_py} |" + normal_ratio(op, fl))
    if args.suite_seconds:
        met = "yes" if float(args.suite_seconds) <= 40 else "**no**"
        w(f"| `./bazelw test //... --cache_test_results=no`, build cached, "
          f"`--jobs={os.cpu_count()}` ({args.suite_tests or '?'}) | "
          f"{float(args.suite_seconds):.1f} s | – | – | ≤ 40 s | {met} | – | – |"
          + (" – |" if normal else ""))
    w("")
    w("Per-repetition spread (procspec / floor, min–max of the repetition "
      "means):")
    w("")
    for name in sorted(reps):
        values = [v / per_item(name) for v in reps[name]]
        w(f"- `{name}`: {fmt_us(min(values))} – {fmt_us(max(values))} "
          f"({len(values)} repetitions)")
    w("")
    if args.analysis and os.path.exists(args.analysis):
        with open(args.analysis) as f:
            w(f.read().rstrip("\n"))
        w("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
