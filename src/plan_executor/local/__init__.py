"""The local stack and the `replay` command: the service on this machine, no Docker, no AWS.

moto (a dev dependency) is imported here only, never by the service modules.
"""
