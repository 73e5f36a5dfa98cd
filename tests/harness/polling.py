"""Polling until a condition holds: the loop the harness's waits share (mysql.wait_for_rows,
faults.wait_distinct), each with its own fetch, stop test and timeout message."""
import time


def poll_until(fetch, done, timeout, describe, check=None, pause=1.0):
    """Calls `fetch()` every `pause` s until `done(result)` holds; returns that result. `check()`, if
    given, runs first every round and may raise to stop waiting (e.g. when the connector's task has
    failed). An exception from `fetch` or `done` (a table not created yet, a busy server) only ends
    the round. After `timeout` s raises TimeoutError(describe(last)), `last` being the last result
    or exception."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if check is not None:
            check()
        try:
            last = fetch()
            if done(last):
                return last
        except Exception as e:  # not there yet, or busy: try again
            last = e
        if time.monotonic() > deadline:
            raise TimeoutError(describe(last))
        time.sleep(pause)
