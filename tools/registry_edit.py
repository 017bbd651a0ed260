#!/usr/bin/env python3
"""Edits conformance/clauses.json in place, keeping its formatting (2-space JSON, UTF-8).

  tools/registry_edit.py mark-tested ID...         # clears `untested` for clauses now tested
  tools/registry_edit.py sync-tested SUITE_BINARY  # clears `untested` for every cited clause
  tools/registry_edit.py set ID FIELD VALUE        # sets one text field
  tools/registry_edit.py start-method ID METHOD NOTE
      # sets the clause's note for one start method (fork, spawn, forkserver):
      # "not_applicable: <reason>" or "differs: <text>"; an empty NOTE removes it
"""
import json
import subprocess
import sys
from pathlib import Path

REGISTRY = Path(__file__).resolve().parent.parent / "conformance" / "clauses.json"


def load():
    return json.loads(REGISTRY.read_text(encoding="utf-8"))


def save(registry):
    REGISTRY.write_text(json.dumps(registry, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def clause(registry, clause_id):
    for entry in registry["clauses"]:
        if entry["id"] == clause_id:
            return entry
    sys.exit(f"unknown clause: {clause_id}")


def mark_tested(registry, ids):
    for clause_id in ids:
        clause(registry, clause_id)["untested"] = ""


def set_start_method(registry, clause_id, method, note):
    entry = clause(registry, clause_id)
    notes = entry.get("start_methods", {})
    if note:
        notes[method] = note
    else:
        notes.pop(method, None)
    order = ["fork", "spawn", "forkserver"]
    notes = {m: notes[m] for m in sorted(notes, key=lambda m: (order.index(m) if m in order else 9, m))}
    if notes:
        entry["start_methods"] = notes
    else:
        entry.pop("start_methods", None)


def cited_ids(suite_binary):
    listing = json.loads(subprocess.run([suite_binary, "--list_clauses"], check=True,
                                        capture_output=True, text=True).stdout)
    tests = listing["tests"] if isinstance(listing, dict) else listing
    return sorted({c for test in tests for c in test["clauses"]})


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    registry = load()
    if argv[1] == "mark-tested":
        mark_tested(registry, argv[2:])
    elif argv[1] == "sync-tested":
        mark_tested(registry, cited_ids(argv[2]))
    elif argv[1] == "set" and len(argv) == 5:
        clause(registry, argv[2])[argv[3]] = argv[4]
    elif argv[1] == "start-method" and len(argv) == 5:
        set_start_method(registry, argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)
    save(registry)


if __name__ == "__main__":
    main(sys.argv)
