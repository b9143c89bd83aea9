"""The end-to-end tests' harness.

Each check prints "PASS name" or "FAIL name: why"; tests/run counts the
lines.  A test file builds a Suite, registers functions with @suite.test,
and ends with suite.main(): every test runs even when an earlier one
failed, and every server a test started is stopped (servers register
their stop with suite.cleanup).
"""
import os
import sys
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("BUILD", "build"))
INTAKED = os.path.join(BUILD, "intaked")
INTAKECTL = os.path.join(BUILD, "intakectl")
SHARED = os.path.join(os.path.dirname(TOP), "shared")


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []
        self.passed = 0
        self.failed = 0
        self._cleanups = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def cleanup(self, fn):
        """Run fn at the end, even after a failure (last in, first out)."""
        self._cleanups.append(fn)

    def check(self, name, cond, why=""):
        if cond:
            self.passed += 1
            print("PASS %s.%s" % (self.name, name), flush=True)
        else:
            self.failed += 1
            print("FAIL %s.%s: %s" % (self.name, name, why or "condition false"),
                  flush=True)
        return bool(cond)

    def eq(self, name, got, want):
        return self.check(name, got == want, "got %r, want %r" % (got, want))

    def main(self):
        only = os.environ.get("ONLY")
        try:
            for fn in self.tests:
                if only and fn.__name__ != only:
                    continue
                try:
                    fn()
                except Exception:
                    self.failed += 1
                    print("FAIL %s.%s: raised\n%s" % (
                        self.name, fn.__name__,
                        "".join("    " + l for l in traceback.format_exc().splitlines(True))),
                        flush=True)
        finally:
            while self._cleanups:
                try:
                    self._cleanups.pop()()
                except Exception:
                    traceback.print_exc()
        sys.exit(1 if self.failed else 0)
