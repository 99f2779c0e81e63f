"""A poll's writer process, and the one-transaction write it runs (also run in-process).

Imports only the standard library and `monitor.core`, so the writer starts as a bare
interpreter: see `process`."""
