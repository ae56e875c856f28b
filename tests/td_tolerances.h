/* Every numeric tolerance a test uses, with its reason. Tests include this header and
 * never write a tolerance inline. Widening one needs a reason here, not a failing test. */
#ifndef TD_TOLERANCES_H
#define TD_TOLERANCES_H

/* Finite-difference gradient checks (central differences). In double precision the
 * truncation error is O(h^2) ~ 1e-10 and rounding ~1e-16/h; relative error below 1e-6
 * leaves margin for both (issue #3 quality bar). */
#define TD_TOL_GRADCHECK_F64 1e-6
/* Float gradient checks: float rounding (~6e-8) amplified by 1/h with h ~ 1e-2 (issue #3). */
#define TD_TOL_GRADCHECK_F32 1e-3

/* Fast path vs plain reference, float32 GEMM/conv: different summation orders differ by
 * about K * eps * |values|; normalized MSE below 1e-10 is that level for K <= 4096. */
#define TD_TOL_FASTPATH_NMSE_F32 1e-10

/* Config round trip: floats are written with the shortest text that reads back to the
 * same double, so the round trip is exact. */
#define TD_TOL_CONFIG_ROUNDTRIP 0.0


/* ---- optimizer (tests/moo, tests/mpi) ---- */
/* Exact hypervolume against an independent exact reference (inclusion-exclusion or the
 * coordinate grid): both sum the same boxes in different orders, so they differ only by
 * rounding, about n * 2^m * eps relative for the small sets tested. */
#define TD_TOL_HV_EXACT_REL 1e-12

/* The unit suite's shorter version of the ZDT quality bar (issue #9): one seed instead of
 * five, pop 100, 250 generations, eta_c 15, reference (1.1, 1.1); about 0.1 s per problem.
 * Seed 1 measured 0.8697, 0.5364, 1.3275, 0.8662, 0.4965 (seeds 1-3 within 0.0008 of each
 * other except ZDT4, 0.8599-0.8675, whose multimodal g keeps a seed-to-seed spread). The
 * minimums sit just under the five-seed bars (ZDT4 0.015 under, for its spread), so a
 * change of random stream passes while a broken operator fails (no crossover or no
 * crowding loses more than 0.01 on ZDT1-3). */
#define TD_MOO_ZDT1_HV_MIN 0.8680
#define TD_MOO_ZDT2_HV_MIN 0.5340
#define TD_MOO_ZDT3_HV_MIN 1.3250
#define TD_MOO_ZDT4_HV_MIN 0.8450
#define TD_MOO_ZDT6_HV_MIN 0.4900

/* ---- hw_model (tests/hw) ---- */
/* Sum of per-layer energies vs the total: the same double terms added in a different
 * order; a few hundred terms of relative rounding 1.1e-16 stay far below 1e-12. */
#define HW_TOL_ENERGY_SUM_REL 1e-12

/* Published figures reproduced through the power-law / log-log rules (pow(), log()):
 * exact up to a few ulps, 1e-12 relative leaves margin. */
#define HW_TOL_PUBLISHED_POINT_REL 1e-12


/* ---- CUDA backend (tests/gpu): normalized MSE, sum (gpu - cpu)^2 / sum cpu^2, of the CUDA
 * backend against nn_backend_cpu() on the same inputs unless said otherwise; cuBLAS in FP32
 * (TANDEM_CUDA_TF32 unset by the tests). ---- */
/* Ops whose arithmetic is identical on both sides (ReLU, max pool forward, residual add,
 * max-pool backward through the per-plane fallback): the same float operations in the same
 * order give the same bits. */
#define GPU_TOL_NMSE_EXACT 0.0

/* Convolution and fully connected layers: cuBLAS and OpenBLAS sum K products in different
 * orders (blocking, FMA); each output differs by about sqrt(K) * eps * |values|, so the
 * normalized MSE is about K * eps^2 ~ 4096 * 1.4e-14 = 6e-11 for K <= 4096. Same bar as the
 * CPU fast path vs reference (TD_TOL_FASTPATH_NMSE_F32). */
#define GPU_TOL_NMSE_GEMM 1e-10

/* Batch norm: statistics are summed in double on both sides (tree vs sequential order) and
 * the variance is E[x^2] - mean^2 in double on the GPU vs two passes on the CPU; the float
 * outputs then differ by a few ulps: normalized MSE ~ (4 * 6e-8)^2 = 6e-14. */
#define GPU_TOL_NMSE_BN 1e-11

/* Elementwise ops with multiply-adds or sums in a different order (average pools, global
 * average pool, max-pool backward with overlapping windows: the GPU gathers an input's
 * contributions and adds their sum, the CPU adds them one by one; SGD/AdamW steps): nvcc contracts
 * a * b + c into FMA, x86-64 gcc without -march does not, so results differ in the last bit or two
 * per operation. */
#define GPU_TOL_NMSE_ELEMENTWISE 1e-12

/* Softmax cross-entropy: both sides compute in double; exp/log of the two math libraries
 * differ by an ulp or so, far below this relative bound on the mean loss. */
#define GPU_TOL_REL_LOSS 1e-9

/* Three optimizer steps through nn_net_train on both backends from the same weights and
 * batches (ref-cnn and a small all-ops network): normalized MSE of the CHANGE of parameters
 * and batch-norm statistics. Per-op differences of ~1e-7 relative (the bounds above) grow
 * through three forward/backward passes; a wrong gradient changes the update itself, i.e.
 * NMSE ~ 1e-2 and more. Measured on the CPU emulation: 6e-13 (ref-cnn), 3e-14 (mixed). */
#define GPU_TOL_NMSE_TRAIN_STEPS 1e-6
/* The same for AdamW: its first steps move each weight by about lr * sign(gradient), so a
 * gradient that rounds to a different tiny value, or is tiny on one side and zero on the
 * other, flips a whole update of that weight; these rare flips dominate. Measured on the CPU
 * emulation: 2.8e-6 on Fashion-MNIST, 1.4e-5 on random images (mixed network, lr 1e-3);
 * far below a wrong gradient (NMSE ~ 1). */
#define GPU_TOL_NMSE_TRAIN_STEPS_ADAMW 1e-3

/* ref-cnn short training (1 epoch of 12,000 Fashion-MNIST images, default recipe): the
 * GPU and CPU runs start from the same weights and see the same batches, but float
 * rounding differs from the first step, so the runs drift apart like two seeds do; on
 * Fashion-MNIST, seed-to-seed spread of validation accuracy at this budget is about one
 * point, so three points is the band. */
#define GPU_TOL_REFCNN_ACC_DIFF 0.03
/* Floor of the same run's validation accuracy (one epoch of ref-cnn is about 0.85 on the
 * CPU; 0.75 catches a backend that learns but wrongly). */
#define GPU_REFCNN_MIN_ACCURACY 0.75


/* ---- nn_search (tests/nn, tests/train) ---- */
/* 16-bit integer inference vs the float model, logits dequantized with the output scale:
 * each requantization adds at most half an output step (2^-16 of the range) and the weights
 * about as much; through a handful of layers the error stays below 1e-3 of the logit range. */
#define NN_TOL_INT16_VS_FLOAT_REL 1e-3

/* Short real training test (tests/train): ref-cnn after 2 epochs on 4000 Fashion-MNIST
 * images reaches about 0.83 validation accuracy; 0.78 leaves room for seed and thread
 * variation while still failing on a broken engine (chance is 0.10). */
#define NN_TOL_SHORT_TRAIN_MIN_ACC 0.78
/* int8 integer reference vs float on the same model: issue #3 asks for 0.5 points on the
 * full test set; on 1000 validation images one image is 0.1 point, so 1.5 points. */
#define NN_TOL_SHORT_TRAIN_INT8_DROP 0.015
/* QAT fake quantization vs the 4-bit integer model on the same weights and scales
 * (tests/nn/test_nn_quant.c): a level differs only where float sums, the quantized bias or
 * the fixed-point requantization round across a half step; 96 % of levels are equal on the
 * test network; 0.9 leaves room while failing on wrong scales or grids. */
#define NN_TOL_QAT_LEVELS_EQUAL 0.9

#endif
