/*
 * vkt: Vulkan test helpers.  See vkt.h.
 */
#include "vkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

/* End the test now as failed (the harness has no call for it). */
static _Noreturn void
vkt_abort(void)
{
	fflush(stdout);
	exit(1);
}

struct vk_device *
vkt_open(void)
{
	struct vk_device *dev;
	struct err err;

	setenv("VKCHAT_VALIDATE", "1", 1);
	if (vk_device_new(-1, 0, &dev, &err) < 0) {
		if (err.code == ERR_DEVICE &&
		    strstr(err.msg, "mesa-vulkan-drivers") != NULL)
			test_skip("%s", err.msg);
		test_fail(__FILE__, __LINE__, "vk_device_new: %s", err.msg);
		vkt_abort();
	}
	return dev;
}

void
vkt_close(struct vk_device *dev)
{
	unsigned i, n = vk_device_messages(dev);

	for (i = 0; i < n && vk_device_message(dev, i) != NULL; i++)
		test_note("validation: %s", vk_device_message(dev, i));
	CHECK_INT(n, 0);
	vk_device_free(dev);
}

void
vkt_fill(float *x, size_t n, uint32_t seed, float scale)
{
	uint32_t s = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		x[i] = ((float)(s >> 8) / 8388608.0f - 1.0f) * scale;
	}
}

struct vk_buf *
vkt_buf(struct vk_device *dev, enum vk_buf_kind kind, const void *data,
    uint64_t size)
{
	struct vk_buf *b;
	struct err err;

	if (vk_buf_new(dev, size, kind, "test", &b, &err) < 0) {
		test_fail(__FILE__, __LINE__, "vk_buf_new: %s", err.msg);
		vkt_abort();
	}
	if (data != NULL && vk_buf_upload(b, 0, data, size, &err) < 0)
		test_fail(__FILE__, __LINE__, "vk_buf_upload: %s", err.msg);
	return b;
}

void *
vkt_read(struct vk_buf *b, uint64_t size)
{
	void *p = xcalloc(1, size);
	struct err err;

	if (vk_buf_download(b, 0, p, size, &err) < 0)
		test_fail(__FILE__, __LINE__, "vk_buf_download: %s", err.msg);
	return p;
}
