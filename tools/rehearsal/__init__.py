"""The rehearsal tier: every notebook, unchanged, under the ``gpu`` and ``cpu`` profiles' code paths,
with every outside service replaced by a real local one on loopback (tests/README.md)."""
