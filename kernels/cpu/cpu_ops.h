#pragma once
// CPU reference implementations of the ops in kernels/ops.h, one file each (same basenames as the
// CUDA kernels). Matrix products go through OpenBLAS; elementwise work is plain (OpenMP) loops.
#include "kernels/ops.h"

namespace clb::cpu {

void linear_forward(const LinearForwardArgs& a);
void softmax_xent(const SoftmaxXentArgs& a);
void linear_backward(const LinearBackwardArgs& a);
void fisher_diag(const FisherDiagArgs& a);
void fused_update(const FusedUpdateArgs& a);
void gather(const GatherArgs& a);
void count_correct(const CountCorrectArgs& a);
void advance_step(const AdvanceStepArgs& a);

// byte / 255.0f for every byte 0..255 (GatherArgs::table8's features): the one place a byte becomes
// a feature on the host, for the host gather and the data sets too; the CUDA gather divides.
const float* byte_features();

}  // namespace clb::cpu
