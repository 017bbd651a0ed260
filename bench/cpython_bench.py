#!/usr/bin/env python3
"""CPython's multiprocessing doing what bench/process_bench.cc measures.

The same operations with the same iteration counts and repetitions; prints a
JSON object: operation -> {"median_us", "repetitions_us", "iterations"}, where
each repetition's value is the mean time of one iteration (as Google
Benchmark's), and the median is over repetitions.

    python3 bench/cpython_bench.py [--repetitions=10] [--iterations_scale=1]
        [--filter=REGEX]
"""

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import resource
import signal
import statistics
import sys
import time

WAKE_UP_SPIN_NS = 1_000_000


def empty():
    pass


def _spin(nanos):
    until = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + nanos
    while time.clock_gettime_ns(time.CLOCK_MONOTONIC) < until:
        pass


def stamp_and_exit(stamp, spin_nanos):
    # The stamp is the child's last act before _exit, as in the C++ child.
    _spin(spin_nanos)
    stamp.value = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os._exit(0)


def ready_and_block(ready_write):
    os.write(ready_write, b"x")
    while True:
        signal.pause()


def start_join(method):
    ctx = mp.get_context(method)

    def one():
        p = ctx.Process(target=empty)
        p.start()
        p.join()
        assert p.exitcode == 0, p.exitcode

    return one, False


def join_wakeup(method):
    ctx = mp.get_context(method)
    stamp = ctx.RawValue("q", 0)

    def one():
        p = ctx.Process(target=stamp_and_exit, args=(stamp, WAKE_UP_SPIN_NS))
        p.start()
        p.join()
        woke = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        assert p.exitcode == 0, p.exitcode
        return (woke - stamp.value) / 1e9

    return one, True


def terminate_join():
    ctx = mp.get_context("fork")
    ready_read, ready_write = os.pipe()

    def one():
        p = ctx.Process(target=ready_and_block, args=(ready_write,))
        p.start()
        assert os.read(ready_read, 1) == b"x"
        start = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        p.terminate()
        p.join()
        end = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        assert p.exitcode == -signal.SIGTERM, p.exitcode
        return (end - start) / 1e9

    return one, True


def many_start_join(method, count):
    ctx = mp.get_context(method)

    def one():
        children = [ctx.Process(target=empty) for _ in range(count)]
        for p in children:
            p.start()
        for p in children:
            p.join()
        assert all(p.exitcode == 0 for p in children)

    return one, False


def lock_uncontended():
    lock = mp.get_context("fork").Lock()

    def one():
        lock.acquire()
        lock.release()

    return one, False


def _lock_ping_pong_child(ping, pong, rounds):
    for _ in range(rounds):
        ping.acquire()
        pong.release()


class LockPingPong:
    """Two locks handed between this process and a child, as the C++ one; a
    child per repetition (started and joined outside the timing)."""

    def __init__(self):
        self.ctx = mp.get_context("fork")

    def repetition(self, iterations):
        ping, pong = self.ctx.Lock(), self.ctx.Lock()
        ping.acquire()
        pong.acquire()
        child = self.ctx.Process(
            target=_lock_ping_pong_child, args=(ping, pong, iterations + 1)
        )
        child.start()
        ping.release()  # the first round waits for the child to start
        pong.acquire()
        start = time.perf_counter()
        for _ in range(iterations):
            ping.release()
            pong.acquire()
        elapsed = time.perf_counter() - start
        child.join()
        assert child.exitcode == 0, child.exitcode
        return elapsed / iterations


MESSAGE = b"p" * 8
QUEUE_BATCH = 20000  # as process_bench.cc's kQueueBatch


def _echo_child(conn, rounds):
    for _ in range(rounds):
        conn.send_bytes(conn.recv_bytes())


class PipeRoundTrip:
    """8 bytes to a child and back over multiprocessing.Pipe()."""

    def __init__(self):
        self.ctx = mp.get_context("fork")

    def repetition(self, iterations):
        mine, theirs = self.ctx.Pipe()
        child = self.ctx.Process(target=_echo_child, args=(theirs, iterations + 1))
        child.start()
        theirs.close()
        mine.send_bytes(MESSAGE)
        mine.recv_bytes()
        start = time.perf_counter()
        for _ in range(iterations):
            mine.send_bytes(MESSAGE)
            mine.recv_bytes()
        elapsed = time.perf_counter() - start
        child.join()
        assert child.exitcode == 0, child.exitcode
        return elapsed / iterations


def _queue_child(queue, count):
    for i in range(count):
        assert queue.get() == i


def queue_small_messages():
    ctx = mp.get_context("fork")

    def one():
        queue = ctx.Queue()
        child = ctx.Process(target=_queue_child, args=(queue, QUEUE_BATCH))
        child.start()
        for i in range(QUEUE_BATCH):
            queue.put(i)
        child.join()
        assert child.exitcode == 0, child.exitcode

    return one, False


def _queue_size_child(queue, size, count):
    for _ in range(count):
        assert len(queue.get()) == size


def queue_by_size(size, count):
    """`count` bytes objects of `size` bytes, parent -> child, as
    process_bench.cc's QueueBySize."""
    ctx = mp.get_context("fork")
    item = b"q" * size

    def one():
        queue = ctx.Queue()
        child = ctx.Process(target=_queue_size_child, args=(queue, size, count))
        child.start()
        for _ in range(count):
            queue.put(item)
        child.join()
        assert child.exitcode == 0, child.exitcode

    return one, False


# Items per iteration of the queue_bytes_<size> benchmarks, as process_bench.cc.
QUEUE_SIZES = [(8, 20000), (1024, 5000), (64 * 1024, 300), (1024 * 1024, 20)]

# Name, factory, iterations: the same as process_bench.cc's RegisterAll.
BENCHMARKS = [
    ("fork_start_join", lambda: start_join("fork"), 200),
    ("spawn_start_join", lambda: start_join("spawn"), 20),
    ("forkserver_start_join", lambda: start_join("forkserver"), 200),
    ("join_wakeup", lambda: join_wakeup("fork"), 100),
    ("forkserver_join_wakeup", lambda: join_wakeup("forkserver"), 100),
    ("terminate_join", terminate_join, 100),
    ("start_join_10", lambda: many_start_join("fork", 10), 20),
    ("start_join_100", lambda: many_start_join("fork", 100), 5),
    ("start_join_1000", lambda: many_start_join("fork", 1000), 1),
    ("lock_uncontended", lock_uncontended, 200000),
    ("lock_ping_pong", LockPingPong, 2000),
    ("pipe_round_trip", PipeRoundTrip, 5000),
    ("queue_small_messages", queue_small_messages, 3),
] + [
    (f"queue_bytes_{size}", lambda size=size, count=count: queue_by_size(size, count), 3)
    for size, count in QUEUE_SIZES
]


def run(one, manual, iterations):
    """Mean seconds per iteration: manual time if the iteration returns it."""
    if manual:
        return sum(one() for _ in range(iterations)) / iterations
    start = time.perf_counter()
    for _ in range(iterations):
        one()
    return (time.perf_counter() - start) / iterations


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--iterations_scale", type=float, default=1.0)
    parser.add_argument("--filter", default=".")
    args = parser.parse_args()

    # A thousand children at once need a descriptor each (their sentinels).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # The fork server is started (and warmed up) before anything is timed, as
    # procspec::Init forks its server before the benchmarks run.
    mp.get_context("forkserver").Process(target=empty).start()
    for p in mp.active_children():
        p.join()
    results = {}
    for name, factory, iterations in BENCHMARKS:
        if not re.search(args.filter, name):
            continue
        iterations = max(1, int(iterations * args.iterations_scale))
        made = factory()
        if isinstance(made, tuple):
            one, manual = made
            reps = [run(one, manual, iterations) * 1e6
                    for _ in range(args.repetitions)]
        else:
            reps = [made.repetition(iterations) * 1e6
                    for _ in range(args.repetitions)]
        results[name] = {
            "median_us": statistics.median(reps),
            "repetitions_us": reps,
            "iterations": iterations,
        }
        print(f"{name}: {results[name]['median_us']:.1f} us", file=sys.stderr)
    json.dump(
        {
            "python": platform.python_implementation() + " " + platform.python_version(),
            "results": results,
        },
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
