"""The conformance suite's areas: one folder and one library each under //conformance/suite.

Each area lists the start methods its tests are written for. An area written with capturing
lambdas as targets (and descriptors passed by capture) runs under fork only; an area ported to
registered targets (PROCSPEC_TARGET, PROCSPEC_PROCESS_CLASS) with values and
procspec::InheritedHandle / conformance::HandshakeChild as arguments runs under all three.
"""

ALL_START_METHODS = ["fork", "spawn", "forkserver"]

# Folder -> the start methods its tests are written for. The first part of a clause id names the
# folder its tests are in: process.* under process/, module.* under module/, sync.* under sync/,
# communication.* and robustness.* in their own. differential/ compares procspec with CPython
# itself, program by program, across process.* and module.* clauses.
AREAS = {
    "process/construction": ALL_START_METHODS,
    "process/lifecycle": ALL_START_METHODS,
    # terminate(), kill(), daemon children, exit, zombies, orphans and parent_process().
    "process/termination": ALL_START_METHODS,
    # active_children(), current_process(), close(), pid and sentinel.
    "module/functions": ALL_START_METHODS,
    # The main guard and what spawn can send: their tests run their own programs
    # (or name the context), so they hold under every start method.
    "module/start_methods": ALL_START_METHODS,
    # procspec beside python3 running the same program.
    "differential": ALL_START_METHODS,
    # Lock, RLock, Semaphore, ... (process/synchronize.h): registered targets
    # that get the primitives as arguments.
    "sync": ALL_START_METHODS,
    # Pipe, Connection, Queue, SimpleQueue: Connections and queues
    # are Process arguments.
    "communication": ALL_START_METHODS,
    # Faults, signal storms, stress, pid reuse and forking with threads.
    "robustness": ALL_START_METHODS,
}

def area_name(area):
    """The name of an area's library (and of its dev suites): its folder with "_" for "/"."""
    return area.replace("/", "_")

def areas_for(start_method):
    """The areas (folders) whose tests run under `start_method`."""
    return [area for area, methods in AREAS.items() if start_method in methods]

def start_methods_in_use():
    """The start methods at least one area supports, in ALL_START_METHODS order."""
    return [method for method in ALL_START_METHODS if areas_for(method)]
