# Only for running the suite under libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 and
# FAKETIME_FORCE_MONOTONIC_FIX=1: there clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which
# time.sleep uses, fails with EINVAL while timed lock waits work; sleep on a lock instead.
import threading
import time

def _sleep(seconds: float) -> None:
    if seconds > 0:
        threading.Event().wait(seconds)

time.sleep = _sleep
