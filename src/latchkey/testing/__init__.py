"""Test tools shipped with Latchkey: a software authenticator for round trips and benchmarks."""
