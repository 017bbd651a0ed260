"""The conformance suite's areas: one folder and one library each under //conformance/suite.

Each area lists the start methods its tests are written for. An area written with capturing
lambdas as targets (and descriptors passed by capture) runs under fork only; an area ported to
registered targets (PROCSPEC_TARGET, PROCSPEC_PROCESS_CLASS) with values and
procspec::InheritedHandle / conformance::HandshakeChild as arguments runs under all three.
"""

ALL_START_METHODS = ["fork", "spawn", "forkserver"]

AREAS = {
    "construction": ALL_START_METHODS,
    "lifecycle": ALL_START_METHODS,
    "signals": ALL_START_METHODS,
    "module": ALL_START_METHODS,
    "module_portable": ALL_START_METHODS,
    # The main guard and what spawn can send: their tests run their own programs
    # (or name the context), so they hold under every start method.
    "start_methods": ALL_START_METHODS,
    # Lock, RLock, Semaphore, ... (process/synchronize.h): registered targets
    # that get the primitives as arguments.
    "synchronize": ALL_START_METHODS,
    # Pipe, Connection, Queue, SimpleQueue: Connections and queues
    # are Process arguments.
    "communication": ALL_START_METHODS,
    # Faults, signal storms, stress, pid reuse and forking with threads.
    "robustness": ALL_START_METHODS,
}

def areas_for(start_method):
    """The areas whose tests run under `start_method`."""
    return [area for area, methods in AREAS.items() if start_method in methods]

def start_methods_in_use():
    """The start methods at least one area supports, in ALL_START_METHODS order."""
    return [method for method in ALL_START_METHODS if areas_for(method)]
