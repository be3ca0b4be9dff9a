"""FIDO Metadata Service (MDS3): which authenticator models exist, their roots and status."""
