"""The physical layer: media, links, ports, and the shared half-duplex medium (CSMA/CD)."""
