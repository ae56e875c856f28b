/* Tolerances of the nn_search tests that tests/td_tolerances.h does not hold yet (to be
 * merged there by its owner), each with its reason. */
#ifndef NN_TEST_TOLERANCES_H
#define NN_TEST_TOLERANCES_H

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

#endif
