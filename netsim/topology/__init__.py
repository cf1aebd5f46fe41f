"""Topologies as data (networkx), and building live devices from them."""
