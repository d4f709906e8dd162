"""Simulators: watch the odoo_dev_mcp addon survive Odoo.sh rebuilds, without an Odoo install.

See simulators/README.md. The Python API: `Simulation`, `SimulatedServer`; the command line:
`python -m simulators rebuild ...` and `python -m simulators demo`.
"""

from .simulation import BurstResult, SimulatedServer, Simulation, SimulationError

__all__ = ["BurstResult", "SimulatedServer", "Simulation", "SimulationError"]
