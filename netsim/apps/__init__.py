"""Traffic: frame generators now; IMAP/SMTP/POP3 clients and servers later."""
