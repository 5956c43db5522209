"""yieldkit: yield and reliability of wafer-scale processors.

See DESIGN.md for the flow and the package layout.
"""

__version__ = "0.1.0"
