"""The simulation engine: SimPy environment, seeded random streams, structured trace."""
