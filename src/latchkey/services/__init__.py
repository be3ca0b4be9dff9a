"""Business rules: tenants, keys, ceremonies and events, over the store, without HTTP."""
