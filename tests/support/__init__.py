"""Helpers the test modules share (parties, app and pool factories, mail readers), so that no
test module imports another: each module here is imported by tests, never runs any."""
