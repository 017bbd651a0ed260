"""The conformance suite's areas: one folder and one library each under //conformance/suite."""

AREAS = [
    "construction",
    "lifecycle",
    "signals",
    "module",
]
