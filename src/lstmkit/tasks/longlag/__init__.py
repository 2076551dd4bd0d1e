"""Classic long-time-lag benchmarks (H&S 1997, Arjovsky et al. 2016): generators and criteria."""

from . import problems
from .problems import *

__all__ = list(problems.__all__)
