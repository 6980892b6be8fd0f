"""The execution diagram: a workflow's task graph as SVG, drawn on the server in pure Python.

`graph` turns a definition's task list into a tree of blocks; `paint` lays an execution over it
(statuses, retries, the switch case taken, loop iterations, dynamic-fork children); `layout`
places every shape and edge; `svg` writes the document that `static/diagram.css` styles. Pages
call `render_execution` or `render_definition`.
"""

from conductor.ui.diagram.links import Links
from conductor.ui.diagram.render import render_definition, render_execution

__all__ = ["Links", "render_definition", "render_execution"]
