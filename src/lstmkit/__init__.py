"""lstmkit: the LSTM family for PyTorch, behind one drop-in API.

``lstmkit.LSTM``, ``GRU``, ``RNN`` and their cells take exactly the arguments of
their ``torch.nn`` namesakes, plus keyword-only options for the variants
(peepholes, CIFG, Greff et al.'s ablations, LSTMP, layer norm) and regularisers
(recurrent dropout, zoneout, weight drop).
"""

from . import cells, engine, nn
from .nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__version__ = "0.1.0"

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "__version__", "cells", "engine", "nn"]
