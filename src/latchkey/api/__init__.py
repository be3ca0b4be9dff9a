"""HTTP surfaces: thin adapters over the services."""
