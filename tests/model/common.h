/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VEIL_TESTS_MODEL_COMMON_H
#define VEIL_TESTS_MODEL_COMMON_H

/*
 * The trained demo model, cached in the build directory
 * (BUILDDIR/model/fashion-mlp.safetensors): trained by `veil train` on first
 * use, under a lock, and reused by every later test and the demo. SKIPs when
 * Fashion-MNIST is not installed.
 */
const char *model_test_path(void);

#endif
