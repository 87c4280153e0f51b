"""Local PostgreSQL and MySQL servers with the demo schemas, accounts and data.

Other stages call :func:`bridge.devenv.api.ensure_up` and use the URLs it returns.
"""
