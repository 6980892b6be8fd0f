"""Conductor's JSON shapes (camelCase, epoch-ms times, nulls left out), built from engine values and
read back into them. Used by the API handlers and by services alike, so it sits below both."""
