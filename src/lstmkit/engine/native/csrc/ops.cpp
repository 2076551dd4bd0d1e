// Registers lstmkit's native kernels as torch operators: torch.ops.lstmkit.<name>.
#include <torch/library.h>

#include "gru.h"
#include "linear.h"
#include "lstm.h"
#include "step.h"

TORCH_LIBRARY(lstmkit, m) {
  m.def(
      "lstm_forward(Tensor xproj, Tensor h0, Tensor c0, Tensor? q0, Tensor w_hh, Tensor? w_hr, "
      "Tensor? w_peep, Tensor? w_gr, Tensor? ln_hh, Tensor? ln_c_w, Tensor? ln_c_b, "
      "Tensor? rd_mask, Tensor? zo_h, Tensor? zo_c, Tensor? lengths, int[] config, "
      "float cell_clip, float proj_clip, bool reverse, bool save) -> Tensor[]");
  m.def(
      "lstm_backward(Tensor? grad_y, Tensor? grad_hn, Tensor? grad_cn, Tensor? grad_qn, "
      "Tensor[] saved, Tensor w_hh, Tensor? w_hr, Tensor? w_peep, Tensor? w_gr, Tensor? ln_hh, "
      "Tensor? ln_c_w, Tensor? rd_mask, Tensor? zo_h, Tensor? zo_c, Tensor? lengths, "
      "int[] config, float cell_clip, float proj_clip, bool reverse) -> Tensor[]");
  m.def(
      "gru_forward(Tensor xproj, Tensor h0, Tensor w_hh, Tensor? b_hh, Tensor? ln_hh, "
      "Tensor? rd_mask, Tensor? zo_h, Tensor? lengths, bool reset_after, bool reverse, "
      "bool save) -> Tensor[]");
  m.def(
      "gru_backward(Tensor? grad_y, Tensor? grad_hn, Tensor[] saved, Tensor w_hh, Tensor? b_hh, "
      "Tensor? ln_hh, Tensor? rd_mask, Tensor? zo_h, Tensor? lengths, bool reset_after, "
      "bool reverse) -> Tensor[]");
  m.def(
      "stack_step(Tensor x, Tensor h, Tensor? c, Tensor?[] weights, bool is_lstm, int[] config, "
      "float cell_clip, float proj_clip, float zoneout_h, float zoneout_c, bool reset_after) "
      "-> Tensor[]");
  m.def("linear(Tensor x, Tensor w, Tensor? b) -> Tensor");
  m.def(
      "linear_backward(Tensor dy, Tensor x, Tensor w, bool need_x, bool need_w, bool need_b) "
      "-> Tensor[]");
}

TORCH_LIBRARY_IMPL(lstmkit, CPU, m) {
  m.impl("lstm_forward", &lstmkit::lstm_forward);
  m.impl("lstm_backward", &lstmkit::lstm_backward);
  m.impl("gru_forward", &lstmkit::gru_forward);
  m.impl("gru_backward", &lstmkit::gru_backward);
  m.impl("stack_step", &lstmkit::stack_step);
  m.impl("linear", &lstmkit::linear);
  m.impl("linear_backward", &lstmkit::linear_backward);
}
