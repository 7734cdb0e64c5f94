"""Public: what a plugin's model code uses (importing it imports torch).

- `Recurrent`: base class that runs a model's torch recurrent module (`self.rnn`) with or
  without `lengths`, scriptable and exportable with lengths everywhere;
- `pack`, `unpack`, `check_lengths`, `final_state`: the pieces it is made of;
- `Scan`: a hand-written cell run over time, exportable with a dynamic sequence axis;
- `RecurrentModel`, `LSTMModel`, `build_recurrent`: the built-in models;
- `exportable_copy`, `onnx_translation_table`: for exporter plugins, the model copy whose
  torch recurrent modules are zoo's custom ops (`zoo::rnn/gru/lstm`, dynamic seq) and the
  table that translates those ops to native ONNX nodes.
"""

from zoo.nn._lengths import Recurrent, check_lengths, final_state, pack, unpack
from zoo.nn._models import LSTMModel, RecurrentModel, build_recurrent
from zoo.nn._ops import exportable_copy, onnx_translation_table
from zoo.nn._scan import Scan

__all__ = [
    "LSTMModel",
    "Recurrent",
    "RecurrentModel",
    "Scan",
    "build_recurrent",
    "check_lengths",
    "exportable_copy",
    "final_state",
    "onnx_translation_table",
    "pack",
    "unpack",
]
