"""The execution diagram: a workflow's task graph as SVG, drawn on the server in pure Python."""
