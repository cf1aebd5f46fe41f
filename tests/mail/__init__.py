"""Tests of netsim.mail."""
