"""The /v1 surface, wire-compatible with the hosted vendor's SDKs (camelCase JSON; errors as
{"error", "errorCode", "errorDescription"})."""
