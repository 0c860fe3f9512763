// SPDX-License-Identifier: GPL-2.0-only
#include "tests/model/common.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fhe/idx.h"
#include "tests/harness.h"

const char *model_test_path(void)
{
	static char path[4200];
	char dir[4096], lock[4200], cmd[8400], probe[4200];
	int fd;

	snprintf(probe, sizeof(probe), "%s/train-images-idx3-ubyte.gz", fhe_mnist_dir(NULL));
	snprintf(dir, sizeof(dir), "%s/model", harness_builddir());
	snprintf(path, sizeof(path), "%s/fashion-mlp.safetensors", dir);
	if (access(path, R_OK) == 0)
		return path;
	if (access(probe, R_OK) < 0)
		SKIP("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
	mkdir(dir, 0755);
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		harness_fail(__FILE__, __LINE__, true, "cannot lock '%s'", lock);
		return NULL;
	}
	if (access(path, R_OK) < 0) {
		snprintf(cmd, sizeof(cmd), "'%s/veil' train -q -o '%s'", harness_builddir(), path);
		TH_LOG("training the demo model once: %s", cmd);
		if (system(cmd) != 0)
			harness_fail(__FILE__, __LINE__, true, "veil train failed");
	}
	close(fd);
	return path;
}
