"""regctl: the command-line client of the registry control plane.

``regctl registry validate`` works offline (it only needs ``shared.domain``); the other commands talk to
the HTTP API (DESIGN.md section 5).
"""
