#include "framework/model/mlp_passes.h"

#include "framework/core/error.h"

namespace clb {

MlpWorkspace::MlpWorkspace(const MlpArch& arch, int rows, int k) : max_rows(rows), rows_per_sample(k) {
  const int L = arch.num_layers();
  act.resize(L + 1);
  delta.resize(L + 1);
  for (int l = 0; l < L; ++l) {
    act[l + 1].resize(size_t(rows) * arch.out(l));
    delta[l + 1].resize(size_t(rows) * k * arch.out(l));
  }
  probs.resize(size_t(rows) * arch.num_outputs());
  loss.resize(rows);
  argmax.resize(rows);
}

PassBuffers MlpWorkspace::buffers() {
  PassBuffers p;
  for (auto& a : act) p.act.push_back(a.data());
  for (auto& d : delta) p.delta.push_back(d.data());
  p.probs = probs.data(), p.loss = loss.data(), p.argmax = argmax.data();
  p.max_rows = max_rows, p.rows_per_sample = rows_per_sample;
  return p;
}

void forward(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws) {
  CLB_ASSERT(b.B <= ws.max_rows);
  const int L = m.arch->num_layers();
  for (int l = 0; l < L; ++l) {
    LinearForwardArgs a;
    a.x = l == 0 ? b.x : ws.act[l];
    a.W = m.W(l);
    a.b = m.b(l);
    a.y = ws.act[l + 1];
    a.B = b.B, a.n_in = m.arch->in(l), a.n_out = m.arch->out(l);
    a.relu = l + 1 < L;
    be.linear_forward(a);
  }
  SoftmaxXentArgs s;
  s.logits = ws.act[L];
  s.labels = b.y;
  s.class_mask = b.class_mask;
  s.probs = ws.probs;
  s.delta = b.y ? ws.delta[L] : nullptr;
  s.loss = b.y ? ws.loss : nullptr;
  s.argmax = ws.argmax;
  s.B = b.B, s.C = m.arch->num_outputs();
  be.softmax_xent(s);
}

void backprop_deltas(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, int K) {
  CLB_ASSERT(K <= ws.rows_per_sample);
  for (int l = m.arch->num_layers() - 1; l >= 1; --l) {
    LinearBackwardArgs a;
    a.dY = ws.delta[l + 1];
    a.X = ws.act[l];
    a.W = m.W(l);
    a.dX = ws.delta[l];
    a.B = b.B, a.n_in = m.arch->in(l), a.n_out = m.arch->out(l);
    a.rows_per_sample = K;
    a.relu_mask = true;
    be.linear_backward(a);
  }
}

void gradients(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, float* grad, float scale) {
  CLB_ASSERT(b.y != nullptr);
  forward(be, m, b, ws);
  gradients_from_delta(be, m, b, ws, grad, scale);
}

void gradients_from_delta(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, float* grad,
                          float scale) {
  backprop_deltas(be, m, b, ws, 1);
  for (int l = 0; l < m.arch->num_layers(); ++l) {
    LinearBackwardArgs a;
    a.dY = ws.delta[l + 1];
    a.X = l == 0 ? b.x : ws.act[l];
    a.W = m.W(l);
    a.dW = grad + m.arch->weight_offset(l);
    a.db = grad + m.arch->bias_offset(l);
    a.B = b.B, a.n_in = m.arch->in(l), a.n_out = m.arch->out(l);
    a.scale = scale != 0 ? scale : 1.0f / float(b.B);
    be.linear_backward(a);
  }
}

void forward(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws) { forward(be, view(m), b, ws.buffers()); }

void backprop_deltas(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws, int K) {
  backprop_deltas(be, view(m), b, ws.buffers(), K);
}

double compute_gradients(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws, float* grad, float scale) {
  gradients(be, view(m), b, ws.buffers(), grad, scale);
  double sum = 0.0;
  for (int i = 0; i < b.B; ++i) sum += ws.loss[i];
  return sum;
}

Batch slice(const Batch& b, int begin, int end, int input_dim, int num_outputs) {
  Batch s;
  s.x = b.x + int64_t(begin) * input_dim;
  s.y = b.y ? b.y + begin : nullptr;
  s.class_mask = b.class_mask ? b.class_mask + int64_t(begin) * num_outputs : nullptr;
  s.B = end - begin;
  return s;
}

}  // namespace clb
