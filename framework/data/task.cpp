#include "framework/data/task.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "kernels/cpu/cpu_ops.h"

namespace clb {

bool has_class_masks(const std::vector<Task>& tasks) {
  for (const Task& t : tasks)
    if (!t.class_mask.empty()) return true;
  return false;
}

Task whole_dataset_task(std::shared_ptr<const Dataset> data, int64_t n) {
  Task t;
  t.train_rows.resize(size_t(n > 0 ? std::min(n, data->n) : data->n));
  for (size_t i = 0; i < t.train_rows.size(); ++i) t.train_rows[i] = int32_t(i);
  t.test_rows = t.train_rows;
  t.train = t.test = std::move(data);
  return t;
}

std::vector<SampleRef> sample_refs(const Task& t, Split split, int64_t limit) {
  const auto& rows = split == Split::kTrain ? t.train_rows : t.test_rows;
  const int64_t n = limit > 0 ? std::min<int64_t>(limit, int64_t(rows.size())) : int64_t(rows.size());
  std::vector<SampleRef> refs(n);
  for (int64_t i = 0; i < n; ++i) refs[i] = {int32_t(t.id), rows[i]};
  return refs;
}

void gather(const std::vector<Task>& tasks, Split split, const SampleRef* refs, int n, int num_outputs,
            BatchBuffers& buf) {
  const int dim = tasks[refs[0].task].train->dim;
  buf.x.resize(size_t(n) * dim);
  buf.y.resize(n);
  bool masked = false;
  for (int i = 0; i < n; ++i) masked |= !tasks[refs[i].task].class_mask.empty();
  buf.mask.resize(masked ? size_t(n) * num_outputs : 0);
  const Dataset* pinned = nullptr;  // the float features of the last float data set read
  std::unique_ptr<FloatFeatures> features;
  for (int i = 0; i < n; ++i) {
    const Task& t = tasks[refs[i].task];
    const Dataset& d = split == Split::kTrain ? *t.train : *t.test;
    if (!d.holds_bytes() && pinned != &d) features = std::make_unique<FloatFeatures>(d), pinned = &d;
    float* dst = buf.x.data() + int64_t(i) * dim;
    const int64_t at = int64_t(refs[i].row) * dim;
    if (d.holds_bytes()) {  // bytes / 255, as the kernels' gather (kernels/cpu/gather.cpp)
      const uint8_t* src = d.bytes.data() + at;
      const float* value = cpu::byte_features();
      if (t.pixel_map.empty())
        for (int j = 0; j < dim; ++j) dst[j] = value[src[j]];
      else
        for (int j = 0; j < dim; ++j) dst[j] = t.pixel_map[j] < 0 ? 0.0f : value[src[t.pixel_map[j]]];
    } else if (t.pixel_map.empty()) {
      std::memcpy(dst, features->data() + at, sizeof(float) * dim);
    } else {
      const float* src = features->data() + at;
      for (int j = 0; j < dim; ++j) dst[j] = t.pixel_map[j] < 0 ? 0.0f : src[t.pixel_map[j]];
    }
    buf.y[i] = d.y[refs[i].row];
    if (masked) {
      uint8_t* m = buf.mask.data() + int64_t(i) * num_outputs;
      // Outputs beyond the task's mask (a model wider than the data's classes) stay masked out.
      std::fill(m, m + num_outputs, uint8_t(t.class_mask.empty() ? 1 : 0));
      std::copy_n(t.class_mask.begin(), std::min<size_t>(t.class_mask.size(), num_outputs), m);
    }
  }
  buf.batch = Batch{buf.x.data(), buf.y.data(), masked ? buf.mask.data() : nullptr, n};
}

const Batch& join_batches(const Batch& a, const Batch& b, int dim, int C, BatchBuffers& out) {
  const int n = a.B + b.B;
  out.x.assign(a.x, a.x + size_t(a.B) * dim);
  out.x.insert(out.x.end(), b.x, b.x + size_t(b.B) * dim);
  out.y.assign(a.y, a.y + a.B);
  out.y.insert(out.y.end(), b.y, b.y + b.B);
  out.mask.clear();
  if (a.class_mask || b.class_mask) {
    out.mask.assign(size_t(n) * C, 1);
    if (a.class_mask) std::copy(a.class_mask, a.class_mask + size_t(a.B) * C, out.mask.begin());
    if (b.class_mask) std::copy(b.class_mask, b.class_mask + size_t(b.B) * C, out.mask.begin() + size_t(a.B) * C);
  }
  out.batch = Batch{out.x.data(), out.y.data(), out.mask.empty() ? nullptr : out.mask.data(), n};
  return out.batch;
}

}  // namespace clb
