"""The training room's Qt-free side: figures from metrics.jsonl, the health verdict,
progress and plan of a run, following a run another process writes, handing a run to a
background process, and starting settings suggested for a data set's size.

The training engine itself is the top-level `trainer` package; this package only reads
what it writes and prepares what it is asked to do.
"""
