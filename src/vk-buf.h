/*
 * vk-buf: device memory.  Each struct vk_buf is one VkBuffer with its own
 * allocation (one owner: whoever called vk_buf_new frees it).  Kernels
 * bind struct vk_view ranges of buffers: a view never exceeds the
 * device's maxStorageBufferRange (128 MiB on lavapipe), so large weights
 * are split by whole rows into several views (vk_buf_split_rows).
 *
 * Kinds: device-local buffers are filled and read through a staging
 * buffer (owned by the device, made on first use, at most 64 MiB; larger
 * transfers go in pieces); host buffers are mapped and coherent (per-step
 * inputs the host writes before each replay); readback buffers are mapped
 * and host-cached where the device has such memory (results the host
 * reads after the fence).
 */
#ifndef VKCHAT_VK_BUF_H
#define VKCHAT_VK_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "err.h"
#include "vk-device.h"

enum vk_buf_kind {
	VK_BUF_DEVICE,	 /* device-local: weights, activations, KV cache */
	VK_BUF_HOST,	 /* host-visible, coherent, mapped: step inputs */
	VK_BUF_READBACK, /* host-visible, cached if offered, mapped */
};

struct vk_buf {
	struct vk_device *dev;
	VkBuffer buf;
	VkDeviceMemory mem;
	uint64_t size;	/* bytes asked for */
	uint64_t alloc; /* bytes allocated */
	uint32_t heap;
	enum vk_buf_kind kind;
	int coherent;
	void *map; /* host and readback kinds: the mapped bytes */
	char label[64];
};

/*
 * A range of a buffer that a kernel binds (offset and size in bytes).
 * TEXEL, when not VK_NULL_HANDLE, is a uniform texel buffer view of the
 * same range (vk_buf_texel), for bindings a pipeline declares as texel
 * buffers (vk_pipe_desc.texel_mask); whoever made it destroys it.
 */
struct vk_view {
	const struct vk_buf *buf;
	uint64_t offset;
	uint64_t size;
	VkBufferView texel;
};

/*
 * Make a buffer of SIZE bytes of kind KIND; LABEL names it in errors.
 * ERR_NOMEM names the label, the size needed and what the heap has (or
 * the device's largest allocation) when it does not fit.
 */
int vk_buf_new(struct vk_device *dev, uint64_t size, enum vk_buf_kind kind,
    const char *label, struct vk_buf **out, struct err *err);

/* Free B (waits for the device to be idle first).  NULL is ignored. */
void vk_buf_free(struct vk_buf *b);

/* The whole of B as a view. */
struct vk_view vk_buf_all(const struct vk_buf *b);

/* SIZE bytes of B from OFFSET as a view (checked when bound). */
struct vk_view vk_buf_view(
    const struct vk_buf *b, uint64_t offset, uint64_t size);

/*
 * Copy SIZE bytes of DATA into B at OFFSET (through the staging buffer
 * for device-local memory); waits until done.  ERR_RANGE when the range
 * is outside B.
 */
int vk_buf_upload(struct vk_buf *b, uint64_t offset, const void *data,
    uint64_t size, struct err *err);

/* Copy SIZE bytes of B at OFFSET into DATA; waits until done. */
int vk_buf_download(struct vk_buf *b, uint64_t offset, void *data,
    uint64_t size, struct err *err);

/* One piece of a row-split matrix (byte offsets from the matrix start). */
struct vk_buf_chunk {
	uint64_t row0, rows;
	uint64_t offset, size;
};

/*
 * Split N_ROWS rows of ROW_BYTES into as few chunks of whole rows as fit
 * in MAX_BYTES each, of near-equal size, with every chunk's byte offset a
 * multiple of ALIGN (a power of two).  *out is a newly allocated array of
 * *n chunks (free it).  ERR_UNSUPPORTED when even the smallest aligned
 * group of rows exceeds MAX_BYTES; ERR_RANGE for zero sizes.
 */
int vk_buf_split_rows(uint64_t row_bytes, uint64_t n_rows, uint64_t max_bytes,
    uint64_t align, struct vk_buf_chunk **out, size_t *n, struct err *err);

/*
 * The largest view a kernel may bind on DEV: maxStorageBufferRange,
 * capped by the largest allocation and by 2 GiB (kernels index 16-bit
 * words with 32-bit integers).
 */
uint64_t vk_buf_max_view(const struct vk_device *dev);

/*
 * A uniform texel buffer view of V's range as RGBA32UI (16-byte texels;
 * V's offset a multiple of the device's texel alignment, its size of 16):
 * *out, destroyed with vk_buf_texel_free.  ERR_UNSUPPORTED when the
 * device has no such texel buffers or the range exceeds
 * maxTexelBufferElements; ERR_RANGE for a misaligned range.
 */
int vk_buf_texel(const struct vk_view *v, VkBufferView *out, struct err *err);

/* Destroy T, made by vk_buf_texel on DEV.  VK_NULL_HANDLE is ignored. */
void vk_buf_texel_free(struct vk_device *dev, VkBufferView t);

/* One device-side copy of SIZE bytes from SRC at SRC_OFF to DST at DST_OFF. */
struct vk_buf_region {
	struct vk_buf *dst;
	const struct vk_buf *src;
	uint64_t dst_off, src_off, size;
};

/*
 * Copy N regions between buffers of DEV on the device (device-local ones
 * included: a KV-cache fork) in one submission, ordered after earlier
 * graph replays and uploads; waits until done.  ERR_RANGE when a region
 * lies outside its buffers (nothing is copied).
 */
int vk_buf_copy_regions(struct vk_device *dev, const struct vk_buf_region *r,
    size_t n, struct err *err);

#endif
