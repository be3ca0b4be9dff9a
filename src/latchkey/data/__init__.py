"""Data files the package ships: the AAGUID names and the attestation roots Latchkey trusts.
No code; any layer may read them."""
