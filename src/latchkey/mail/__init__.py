"""Outgoing e-mail: messages queued in the database outbox and delivered by a background worker."""
