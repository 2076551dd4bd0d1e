"""Floor 3: the modules users hold — parameters, validation, packing — over `engine`."""

from .cells import GRUCell, LSTMCell, RNNCell
from .gru import GRU
from .lstm import LSTM
from .recurrent import RecurrentLayer
from .rnn import RNN

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "RecurrentLayer"]
