#!/bin/bash
# Runs tools/snippets.py --check against the runfiles tree, which holds the
# sources (README.md, the headers) and the checked-in copies.
set -euo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec python3 "$1" --check "--root=${root}"
