"""`conductor workflow|def|queue|schedule ...`: operators' commands over the REST API.

They talk to a running server (`--server`, CONDUCTOR_SERVER_URL) exactly as any client would,
print readable tables (or the API's JSON with `--json`), and report failures in one line.
"""
