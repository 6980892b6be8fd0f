"""Worker definitions: the `Worker` base class and the `@worker_task` function decorator.

A worker says which task type it serves, how many tasks it runs at once, which domain it
polls, and how to execute one task. Function workers get the task's inputData keys as
keyword arguments (only the ones they declare), or the whole `Task` when their single
parameter is annotated `Task`. Sync functions run in a thread so they never block the loop.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from workers.model import Task
from workers.outcome import Outcome

P = ParamSpec("P")
R = TypeVar("R")

# The server refuses long polls above 5 s (spec §1.3).
MAX_POLL_TIMEOUT_MS = 5000


class Worker(abc.ABC):
    """Base class for class-based workers; set `task_type` and implement `execute`."""

    task_type: str
    concurrency: int = 1
    domain: str | None = None
    poll_timeout_ms: int = 1000

    @abc.abstractmethod
    async def execute(self, task: Task) -> Outcome:
        """Execute one task; return output, InProgress or a TaskResult, or raise to fail it."""


def check_worker(worker: Worker) -> None:
    """Raise ValueError if the worker's settings cannot be used for polling."""
    if not getattr(worker, "task_type", ""):
        raise ValueError(f"{type(worker).__name__} has no task_type")
    if worker.concurrency < 1:
        raise ValueError(f"{worker.task_type}: concurrency must be at least 1")
    if not 0 <= worker.poll_timeout_ms <= MAX_POLL_TIMEOUT_MS:
        raise ValueError(
            f"{worker.task_type}: poll_timeout_ms must be within 0..{MAX_POLL_TIMEOUT_MS}"
        )


class FunctionWorker(Worker, Generic[P, R]):
    """A worker made from a plain function; still callable as that function."""

    def __init__(
        self,
        fn: Callable[P, R],
        task_type: str,
        *,
        concurrency: int = 1,
        domain: str | None = None,
        poll_timeout_ms: int = 1000,
    ) -> None:
        self.task_type = task_type
        self.concurrency = concurrency
        self.domain = domain
        self.poll_timeout_ms = poll_timeout_ms
        self._fn = fn
        self._is_async = inspect.iscoroutinefunction(fn)
        self._bind = _make_binder(fn)
        functools.update_wrapper(self, fn)
        check_worker(self)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._fn(*args, **kwargs)

    async def execute(self, task: Task) -> Outcome:
        args, kwargs = self._bind(task)
        call: Callable[..., Any] = self._fn
        if self._is_async:
            return typing.cast(Outcome, await call(*args, **kwargs))
        value = await asyncio.to_thread(call, *args, **kwargs)
        # A sync callable may still hand back an awaitable (e.g. an object whose
        # __call__ is async); finish it on the loop rather than in the thread.
        if inspect.isawaitable(value):
            value = await value
        return typing.cast(Outcome, value)


def worker_task(
    task_type: str,
    *,
    concurrency: int = 1,
    domain: str | None = None,
    poll_timeout_ms: int = 1000,
) -> Callable[[Callable[P, R]], FunctionWorker[P, R]]:
    """Turn an async or sync function into a worker for `task_type`."""

    def decorate(fn: Callable[P, R]) -> FunctionWorker[P, R]:
        return FunctionWorker(
            fn,
            task_type,
            concurrency=concurrency,
            domain=domain,
            poll_timeout_ms=poll_timeout_ms,
        )

    return decorate


_Binder = Callable[[Task], tuple[tuple[Any, ...], dict[str, Any]]]


def _make_binder(fn: Callable[..., Any]) -> _Binder:
    """Work out once, at decoration time, how to build the call arguments from a Task."""
    params = [
        p for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_POSITIONAL
    ]
    if _wants_task(fn, params):
        return lambda task: ((task,), {})
    named = [p for p in params if p.kind is not p.VAR_KEYWORD]
    takes_rest = len(named) != len(params)
    for p in named:
        if p.kind is p.POSITIONAL_ONLY and p.default is p.empty:
            raise TypeError(
                f"{fn.__qualname__}: parameter {p.name!r} is positional-only; "
                "worker inputs are passed by keyword"
            )
    bindable = [p for p in named if p.kind is not p.POSITIONAL_ONLY]

    def bind(task: Task) -> tuple[tuple[Any, ...], dict[str, Any]]:
        data = task.input_data
        kwargs: dict[str, Any] = {}
        for p in bindable:
            if p.name in data:
                kwargs[p.name] = data[p.name]
            elif p.default is p.empty:
                # Conductor's own SDKs pass None here, and servers may drop null-valued
                # inputs from the JSON, so a missing input must not break the call.
                kwargs[p.name] = None
        if takes_rest:
            for key, value in data.items():
                kwargs.setdefault(key, value)
        return (), kwargs

    return bind


def _wants_task(fn: Callable[..., Any], params: list[inspect.Parameter]) -> bool:
    """Tell whether `fn` takes exactly one parameter, annotated `Task`."""
    if len(params) != 1 or params[0].kind is params[0].VAR_KEYWORD:
        return False
    param = params[0]
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        # Unresolvable forward references (e.g. names only imported under TYPE_CHECKING)
        # leave us with the raw annotation, compared by name below.
        hints = {}
    annotation = hints.get(param.name, param.annotation)
    return annotation is Task or annotation == "Task"
