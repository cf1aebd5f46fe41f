"""Tests of netsim.mail.imap."""
