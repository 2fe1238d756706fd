"""Banc Ségur: conformance bench and simulators for Ségur home-care DUI software.

`banc` is the engine shared by the simulators, the scenarios and the notebooks. It imports
nothing from them (the flow goes one way: notebooks → scenarios → simulators → banc).
"""

__version__ = "0.1.0"
