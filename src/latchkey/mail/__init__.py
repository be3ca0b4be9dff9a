"""Outgoing e-mail as data and on the wire: the message record the outbox stores and its MIME
form, and the transports (SMTP, console) that send it. Queueing and the worker that drains the
outbox are services (services/mail_queue.py, services/mail_worker.py). It is kept by the store,
so it imports nothing else of Latchkey's."""
