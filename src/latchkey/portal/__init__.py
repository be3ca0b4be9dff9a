"""The operator portal's own state: operators, their passkeys, enrolment links, portal sessions
(the HTTP pages live in latchkey.api.portal). Every change an operator makes through the portal
goes through services/operator_changes.py, as the management API's and the CLI's do."""
