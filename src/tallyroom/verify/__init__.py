"""The election record of a verifiable election, and the independent verifier that checks it.

Imports only the crypto, the audit chain's pure functions, the definition reader, the count
and the report's pure helpers: never the store, the services, the web or the command line
(pyproject's import contracts), so that anybody can run it away from the server that ran the
election. docs/election-record.md describes every file and check.
"""
