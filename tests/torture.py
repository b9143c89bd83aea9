#!/usr/bin/python3
"""make torture: the crash test of tests/e2e/test_crash.py with many more
kills (CRASH_KILLS, default 100) over three times the mail (CRASH_ROUNDS),
and the IMAP and SMTP servers stopped, restarted under the running daemon
and left down for a run or two in between.  Not part of make
check: it takes several minutes.  CRASH_SEED=n replays a run.

    BUILD=build /usr/bin/python3 tests/torture.py
"""
import importlib.util
import os

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "test_crash", os.path.join(here, "e2e", "test_crash.py"))
crash = importlib.util.module_from_spec(spec)
spec.loader.exec_module(crash)

settings = dict(crash.SETTINGS,
                kills=int(os.environ.get("CRASH_KILLS", "100")),
                server_restarts=True,
                rounds=int(os.environ.get("CRASH_ROUNDS", "3")))


@crash.suite.test
def torture():
    crash.crash_run("torture", settings)


crash.suite.tests = [torture]
crash.suite.main()
