"""The runtime: the ``truancy`` CLI, settings, state store, sync pipeline and outbox."""
