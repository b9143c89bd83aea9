#!/bin/sh
# make demo: see tests/demo.py.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 tests/demo.py "$@"
