"""FIDO Metadata Service (MDS3): which authenticator models exist, their roots and status,
read from a verified blob or the bundled one. Pure: it imports nothing else of Latchkey's, and
the WebAuthn attestation policy reads its entries; the metadata in use is a service
(services/metadata.py)."""
