#!/usr/bin/env python3
"""Edits conformance/clauses.json in place, keeping its formatting (2-space JSON, UTF-8).

  tools/registry_edit.py mark-tested ID...         # clears `untested` for clauses now tested
  tools/registry_edit.py sync-tested SUITE_BINARY  # clears `untested` for every cited clause
  tools/registry_edit.py set ID FIELD VALUE        # sets one text field
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
    else:
        sys.exit(__doc__)
    save(registry)


if __name__ == "__main__":
    main(sys.argv)
