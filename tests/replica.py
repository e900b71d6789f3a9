"""The ``replica`` database alias added for one test and taken away after it (lib.replica reads it).

The suite runs without a replica (config/settings/test.py); a test that needs one adds the alias to the
connection handler's settings, as ``DATABASE_REPLICA_URL`` would have at start-up, and removes it (and its
thread's connection) before pytest-django's teardown, which walks every alias.
"""

import contextlib

from django.db import connections

from lib import replica


@contextlib.contextmanager
def replica_alias(**entry):
    """``entry``: the alias's DATABASES entry (ENGINE, NAME, HOST, PORT, …); Django's defaults fill the rest."""
    entry = {"CONN_HEALTH_CHECKS": False, "TEST": {"MIRROR": "default"}, **entry}
    full = connections.configure_settings({"default": dict(connections["default"].settings_dict), "replica": entry})
    connections.settings[replica.REPLICA] = full[replica.REPLICA]
    replica.reset_health()
    try:
        yield connections.settings[replica.REPLICA]
    finally:
        with contextlib.suppress(AttributeError):
            connections[replica.REPLICA].close()
            del connections[replica.REPLICA]
        del connections.settings[replica.REPLICA]
        replica.reset_health()
