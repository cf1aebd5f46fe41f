"""Mail protocols without I/O, and the mail store they share.

The sub-packages speak a protocol as pure state machines over bytes (the h11 style):
they never touch a socket or a clock, so the same code runs over the simulated TCP of
``netsim.net`` and over a real asyncio socket in ``netsim.apps.serve_mail``.

- :mod:`netsim.mail.store` keeps users' mailboxes and messages, in memory or durably on disk.
- :mod:`netsim.mail.journal` and :mod:`netsim.mail.records` are its files on disk and the
  format of their records; :mod:`netsim.mail.store_check` verifies them (``--check``).
- :mod:`netsim.mail.mime` finds the MIME structure of a message, byte-exact.
- :mod:`netsim.mail.users` reads the ``name:password`` user file.
- :mod:`netsim.mail.imap` is IMAP4rev1 (RFC 3501): server and client protocol objects.
"""
