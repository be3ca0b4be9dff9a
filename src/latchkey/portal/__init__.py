"""What is left of the operator portal's own package while its passkey ceremony moves onto the
shared one: the portal's ceremonies and its tables' rows (store.py). The operators and their
sessions are in services/operators/, the overview's figures in services/tenant_stats.py, the pages
and the portal session's request checks in latchkey.api. Every change an operator makes through
the portal goes through services/operator_changes.py, as the management API's and the CLI's do.
It may import the services, the store and the records, never the HTTP surfaces."""
