"""Test tools shipped with Latchkey: a software authenticator for round trips and benchmarks,
an attestation CA, MDS blobs and bot-check answers. They import nothing else of Latchkey's, so
tests and the benchmark can drive any layer with them."""
