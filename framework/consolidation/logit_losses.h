#pragma once
// Loss terms on one row's logits z (C of them) that strategies add to cross-entropy: LwF's and
// iCaRL's distillation from an earlier model, iCaRL's sigmoid loss, DER++'s logit replay. Each
// returns the term's value and ADDS its gradient dL/dz (weight included) into grad. Sums in double.
#include <cstdint>

namespace clb {

// Knowledge distillation (Hinton et al. 2015) over the classes in group[0..n): q = softmax(z_old/T)
// and p = softmax(z/T) over the group,
//   L = weight * T^2 * sum_c q_c (log q_c - log p_c),   dL/dz_c = weight * T * (p_c - q_c)
// (T^2 keeps the gradient's scale independent of T). Classes outside the group: no gradient.
double distillation(const float* z, const float* z_old, const int32_t* group, int n, float T, float weight,
                    float* grad);

// Sigmoid binary cross-entropy against targets t_c in [0, 1] over the allowed classes (mask null:
// all), s = sigmoid(z):
//   L = weight * sum_c -(t_c log s_c + (1 - t_c) log(1 - s_c)),   dL/dz_c = weight * (s_c - t_c)
double sigmoid_bce(const float* z, const float* target, const uint8_t* mask, int C, float weight, float* grad);

// Mean squared error against stored logits z*:
//   L = weight * (1/C) sum_c (z_c - z*_c)^2,   dL/dz_c = weight * 2 (z_c - z*_c) / C
double logit_mse(const float* z, const float* z_star, int C, float weight, float* grad);

}  // namespace clb
