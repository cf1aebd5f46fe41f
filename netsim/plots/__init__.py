"""netsim.plots: matplotlib figures drawn from a run's tables and a topology.

- :mod:`netsim.plots.run`: ``save_run_plots`` (latency, IMAP latency, port utilization,
  MAC table size, topology) and one ``*_figure`` function per figure;
- :mod:`netsim.plots.topology`: ``draw_topology`` and ``tier_positions``, a tiered layout;
- :mod:`netsim.plots.sweep`: ``plot_sweep``, a metric against swept parameters;
- :mod:`netsim.plots.data`: the numbers behind the figures, as pure functions.

Only matplotlib's object API is used (``Figure`` and ``savefig``), never pyplot, so
drawing needs no display and touches no global state. Importing this package imports
nothing; import the module you need.
"""
