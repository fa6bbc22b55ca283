"""sybilgraph: tie API accounts to the operators behind them and attribute distillation campaigns.

Flow of the stage modules (none imports Dagster):
contract -> normalize -> features -> links -> resolve -> graph -> attribution -> report.
Dagster assets in ``pipelines.assets`` and the CLI in ``pipelines.cli`` call the same functions.
"""

__version__ = "0.1.0"
