/*
 * vkt: helpers shared by the Vulkan tests (test-vk.c, test-kern.c):
 * open the device with the validation layer on (or skip the test when
 * the machine has no Vulkan device at all), check at the end that the
 * layer stayed silent, and make deterministic random data.
 */
#ifndef VKCHAT_VKT_H
#define VKCHAT_VKT_H

#include <stddef.h>
#include <stdint.h>

#include "vk-buf.h"
#include "vk-device.h"

/*
 * Open the default device with VKCHAT_VALIDATE=1.  Skips the test when
 * no Vulkan device exists; ends it as failed on other errors.
 */
struct vk_device *vkt_open(void);

/* CHECK that validation reported nothing (printing what it did); free. */
void vkt_close(struct vk_device *dev);

/* N floats uniform in [-SCALE, SCALE] from SEED (xorshift, stable). */
void vkt_fill(float *x, size_t n, uint32_t seed, float scale);

/* A buffer of KIND holding SIZE bytes of DATA (NULL: uninitialised). */
struct vk_buf *vkt_buf(struct vk_device *dev, enum vk_buf_kind kind,
    const void *data, uint64_t size);

/* Download SIZE bytes of B into a new heap block. */
void *vkt_read(struct vk_buf *b, uint64_t size);

#endif
