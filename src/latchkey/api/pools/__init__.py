"""The identity pools' HTTP surface under /{tenantId}/identity/{poolId}/: the JSON ceremony,
password, recovery and verification endpoints (endpoints.py, which holds the router), the
hosted pages (pages.py), the signed-in account's endpoints (account.py), the page milestones
(milestones.py), the cross-site guard and CORS (cors.py) and the flow cookies and pool lookup
they share (http.py). Errors are errors.POOL's shape. It may import the shared request plumbing
of latchkey.api (context, errors, tenancy, page_language), the services (the pool domain among
them), latchkey.web's page rendering and the records (models, errors, event_kinds); never another
surface's package (v1, issuer, admin, portal) and never the store directly."""
