"""The ``tallyroom`` command: thin adapters over the services."""
