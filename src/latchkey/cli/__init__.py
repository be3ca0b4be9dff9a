"""The `latchkey` command line, one module per command group (tenants, apps, keys,
directories, pools, webhooks, admin, events, mds, server), each over the services (changes
through services/operator_changes.py); `context` and `output` are what they share. It may import
services, records and settings, never an HTTP surface."""

from __future__ import annotations

from latchkey.cli.commands import main

__all__ = ["main"]
