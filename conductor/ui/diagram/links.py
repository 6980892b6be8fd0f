"""Where a diagram's links lead. A page that keeps other query parameters (a tab, filters)
passes a subclass; every href is escaped as an attribute by the renderer, but must itself be a
safe URL (a relative path or query, never one built from a scheme a user chose)."""

from __future__ import annotations

from urllib.parse import quote, urlencode


class Links:
    def task(self, task_id: str) -> str:
        """A node whose task ran: open that attempt (the execution page reads `?task=`)."""
        return "?" + urlencode({"task": task_id})

    def reference(self, ref: str) -> str | None:
        """A node with no task (a definition, or a task not reached yet); None: no link."""
        return None

    def execution(self, workflow_id: str) -> str:
        """A SUB_WORKFLOW's child run."""
        return "/execution/" + quote(workflow_id, safe="")

    def iteration(self, loop_ref: str, iteration: int) -> str:
        """The same page showing another iteration of the DO_WHILE `loop_ref`."""
        return "?" + urlencode({"loop": loop_ref, "iteration": iteration})
