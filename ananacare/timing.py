"""Stage timings and the work budget of one piece of work: the log line and the Server-Timing
header read the timings; the pipeline checks the budget between stages and model runs."""
import math
import time
from contextlib import contextmanager

from .errors import ApiError


class WorkTimeout(ApiError):
    """503 `work_timeout`: the request's work passed its deadline; the stages so far are logged."""

    def __init__(self, seconds, stage):
        retry = max(1, math.ceil(seconds / 4))
        super().__init__("work_timeout", f"The photo took longer than the limit of {seconds:g} s to process "
                         f"(stopped before {stage}); try again, or send a smaller or simpler photo.", 503,
                         {"limit_seconds": seconds, "stage": stage, "setting": "WORK_TIMEOUT_SECONDS"},
                         {"Retry-After": str(retry)})


class SearchExhausted(Exception):
    """The face search spent its budget of model runs; what it found so far stands."""


class WorkBudget:
    """A request's work deadline (WORK_TIMEOUT_SECONDS) and the face search's budget of model runs
    (MAX_SEARCH_MODEL_RUNS): the deadline ends the request with 503, the run budget ends the search
    with the faces found so far, reported as not exhaustive."""

    def __init__(self, seconds=None, max_search_runs=None, clock=time.monotonic):
        self.seconds = seconds
        self.max_search_runs = max_search_runs
        self._clock = clock
        self._deadline = clock() + seconds if seconds else None
        self._searching = False
        self.search_runs = 0

    def check(self, stage):
        """Raise WorkTimeout when the deadline has passed (`stage`: what would run next)."""
        if self._deadline is not None and self._clock() > self._deadline:
            raise WorkTimeout(self.seconds, stage)

    def spend(self, model):
        """Charge one model run: the deadline is checked, and within the search, its run budget."""
        self.check(f"model {model}")
        if self._searching:
            self.search_runs += 1
            if self.max_search_runs and self.search_runs > self.max_search_runs:
                raise SearchExhausted()

    @contextmanager
    def searching(self):
        """Count the model runs of the block against the search budget."""
        self._searching = True
        try:
            yield self
        finally:
            self._searching = False


class _Unbounded(WorkBudget):
    """No deadline and no run budget, counting nothing (shared: it keeps no state)."""

    def spend(self, model):
        pass


NULL_BUDGET = _Unbounded()


class StageTimer:
    """Accumulates wall time per named stage, in the order stages first ran; a stage does not start
    once the work budget's deadline has passed."""

    def __init__(self, budget=None):
        self.stages = {}
        self.budget = budget if budget is not None else WorkBudget()

    @contextmanager
    def stage(self, name, check=True):
        """Time the block under `name` (repeated stages add up); WorkTimeout before it past the deadline
        (`check` False: work that keeps what is done, such as storing a finished crop)."""
        if check:
            self.budget.check(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started

    def milliseconds(self):
        """{stage: ms} rounded for logs."""
        return {name: round(seconds * 1000, 2) for name, seconds in self.stages.items()}


class NullTimer:
    """A timer that records nothing (the default for pure function calls)."""

    @property
    def budget(self):
        """A fresh unlimited budget (its counts are this call's own)."""
        return WorkBudget()

    @contextmanager
    def stage(self, name, check=True):
        yield


NULL_TIMER = NullTimer()
