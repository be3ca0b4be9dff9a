"""The operator portal's own state: operators, their passkeys, enrolment links, portal sessions
and the overview's statistics (the HTTP pages and the portal session's request checks live in
latchkey.api). Every change an operator makes through the portal goes through
services/operator_changes.py, as the management API's and the CLI's do. It may import the
services, the store and the records, never the HTTP surfaces."""
