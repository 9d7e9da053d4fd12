"""Load and verification tools for the uneventful wallet HTTP API.

Standard library only (python 3.11+). Entry points:

    python -m utils.curl    curl-like client with a multi-threaded load loop
    python -m utils.verify  end-to-end balance/transaction consistency check
"""
