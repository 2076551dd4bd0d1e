"""Classic long-time-lag benchmarks (H&S 1997, Arjovsky et al. 2016): generators and criteria."""

from .problems import (
    ADDING_BASELINE_MSE,
    PROBLEMS,
    REBER_SYMBOLS,
    TEMPORAL_ORDER_SYMBOLS,
    Batch,
    LongLagProblem,
    adding,
    adding_problem,
    adding_solved,
    copy_memory,
    copy_memory_baseline,
    copy_memory_solved,
    embedded_reber,
    long_lag,
    long_lag_baseline,
    long_lag_solved,
    multiplication,
    multiplication_baseline,
    multiplication_solved,
    reber_legal_next,
    reber_solved,
    temporal_order,
    temporal_order_baseline,
    temporal_order_solved,
)

__all__ = [
    "ADDING_BASELINE_MSE", "PROBLEMS", "REBER_SYMBOLS",
    "TEMPORAL_ORDER_SYMBOLS", "Batch", "LongLagProblem", "adding", "adding_problem",
    "adding_solved", "copy_memory", "copy_memory_baseline", "copy_memory_solved",
    "embedded_reber", "long_lag", "long_lag_baseline", "long_lag_solved", "multiplication",
    "multiplication_baseline", "multiplication_solved", "reber_legal_next", "reber_solved", "temporal_order",
    "temporal_order_baseline", "temporal_order_solved",
]
