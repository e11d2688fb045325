/*
 * vk-buf: buffers, their memory, transfers and the row-split arithmetic.
 *
 * Every buffer has its own VkDeviceMemory: the engine makes a few hundred
 * at most (weights, activations, caches), far below
 * maxMemoryAllocationCount, and one owner per allocation keeps lifetimes
 * simple.  The device's heap use is counted here so an out-of-memory
 * error can say how much the heap has left.
 *
 * Transfers through the staging buffer are synchronous: record a copy
 * into the device's transfer command buffer between two global barriers
 * (so earlier and later compute work on the same buffer is ordered
 * against it), submit, wait.  They happen at load time, not per token.
 */
#include "vk-buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define VK_BUF_STAGING_MAX (64ull << 20)

/* A memory type for KIND among TYPE_BITS, or -1. */
static int
vk_buf_mem_type(const VkPhysicalDeviceMemoryProperties *mem, uint32_t type_bits,
    enum vk_buf_kind kind)
{
	static const VkMemoryPropertyFlags want[][3] = {
		[VK_BUF_DEVICE] = { VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0 },
		[VK_BUF_HOST] = { VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
			VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
			VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
			VK_MEMORY_PROPERTY_HOST_COHERENT_BIT },
		[VK_BUF_READBACK] = { VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
			VK_MEMORY_PROPERTY_HOST_CACHED_BIT |
			VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
			VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
		    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT },
	};
	uint32_t pass, i;

	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < mem->memoryTypeCount; i++)
			if ((type_bits & (1u << i)) &&
			    (mem->memoryTypes[i].propertyFlags &
				want[kind][pass]) == want[kind][pass])
				return (int)i;
	/* Device-local is a preference: any type will do. */
	if (kind == VK_BUF_DEVICE)
		for (i = 0; i < mem->memoryTypeCount; i++)
			if (type_bits & (1u << i))
				return (int)i;
	return -1;
}

static int
vk_buf_nomem(struct vk_device *dev, const char *label, uint64_t need,
    uint32_t heap, struct err *err)
{
	char b1[32], b2[32], b3[32];

	return err_set(err, ERR_NOMEM,
	    "out of device memory for '%s': need %s, heap %u has %s "
	    "(%s already used by vkchat)",
	    label, util_bytes(need, b1, sizeof b1), heap,
	    util_bytes(dev->mem.memoryHeaps[heap].size, b2, sizeof b2),
	    util_bytes(dev->heap_used[heap], b3, sizeof b3));
}

int
vk_buf_new(struct vk_device *dev, uint64_t size, enum vk_buf_kind kind,
    const char *label, struct vk_buf **out, struct err *err)
{
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
		    VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
		    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		    VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
	};
	VkMemoryRequirements req;
	struct vk_buf *b;
	char b1[32], b2[32];
	int type, rc;
	VkResult r;

	*out = NULL;
	if (size == 0)
		return err_set(
		    err, ERR_RANGE, "buffer '%s' of zero bytes", label);
	if (size > dev->info.max_alloc)
		return err_set(err, ERR_NOMEM,
		    "buffer '%s' needs %s, more than the largest allocation "
		    "device '%s' allows (%s)",
		    label, util_bytes(size, b1, sizeof b1), dev->info.name,
		    util_bytes(dev->info.max_alloc, b2, sizeof b2));
	b = xcalloc(1, sizeof *b);
	b->dev = dev;
	b->size = size;
	b->kind = kind;
	snprintf(b->label, sizeof b->label, "%s", label);
	r = vkCreateBuffer(dev->dev, &bci, NULL, &b->buf);
	if (r != VK_SUCCESS) {
		rc = vk_device_check(r, "vkCreateBuffer", err);
		goto fail;
	}
	vkGetBufferMemoryRequirements(dev->dev, b->buf, &req);
	type = vk_buf_mem_type(&dev->mem, req.memoryTypeBits, kind);
	if (type < 0) {
		rc = err_set(err, ERR_DEVICE,
		    "device '%s' has no host-visible memory for '%s'",
		    dev->info.name, label);
		goto fail;
	}
	b->heap = dev->mem.memoryTypes[type].heapIndex;
	if (req.size >
	    dev->mem.memoryHeaps[b->heap].size - dev->heap_used[b->heap]) {
		rc = vk_buf_nomem(dev, label, req.size, b->heap, err);
		goto fail;
	}
	mai.allocationSize = req.size;
	mai.memoryTypeIndex = (uint32_t)type;
	r = vkAllocateMemory(dev->dev, &mai, NULL, &b->mem);
	if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
	    r == VK_ERROR_OUT_OF_HOST_MEMORY) {
		rc = vk_buf_nomem(dev, label, req.size, b->heap, err);
		goto fail;
	}
	if (r != VK_SUCCESS) {
		rc = vk_device_check(r, "vkAllocateMemory", err);
		goto fail;
	}
	b->alloc = req.size;
	dev->heap_used[b->heap] += req.size;
	r = vkBindBufferMemory(dev->dev, b->buf, b->mem, 0);
	if (r != VK_SUCCESS) {
		rc = vk_device_check(r, "vkBindBufferMemory", err);
		goto fail;
	}
	b->coherent = (dev->mem.memoryTypes[type].propertyFlags &
			  VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
	if (kind != VK_BUF_DEVICE) {
		r = vkMapMemory(dev->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map);
		if (r != VK_SUCCESS) {
			rc = vk_device_check(r, "vkMapMemory", err);
			goto fail;
		}
	}
	*out = b;
	return 0;
fail:
	vk_buf_free(b);
	return rc;
}

void
vk_buf_free(struct vk_buf *b)
{
	if (b == NULL)
		return;
	vkDeviceWaitIdle(b->dev->dev);
	if (b->buf != VK_NULL_HANDLE)
		vkDestroyBuffer(b->dev->dev, b->buf, NULL);
	if (b->mem != VK_NULL_HANDLE) {
		vkFreeMemory(b->dev->dev, b->mem, NULL);
		b->dev->heap_used[b->heap] -= b->alloc;
	}
	free(b);
}

struct vk_view
vk_buf_all(const struct vk_buf *b)
{
	struct vk_view v = { b, 0, b->size, VK_NULL_HANDLE };

	return v;
}

struct vk_view
vk_buf_view(const struct vk_buf *b, uint64_t offset, uint64_t size)
{
	struct vk_view v = { b, offset, size, VK_NULL_HANDLE };

	return v;
}

int
vk_buf_texel(const struct vk_view *v, VkBufferView *out, struct err *err)
{
	struct vk_device *dev = v->buf->dev;
	VkBufferViewCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
		.buffer = v->buf->buf,
		.format = VK_FORMAT_R32G32B32A32_UINT,
		.offset = v->offset,
		.range = v->size,
	};
	VkResult r;

	*out = VK_NULL_HANDLE;
	if (!dev->info.texel_u128)
		return err_set(err, ERR_UNSUPPORTED,
		    "device '%s' has no RGBA32UI uniform texel buffers",
		    dev->info.name);
	if (v->size == 0 || v->size % 16 != 0 ||
	    v->offset % dev->info.texel_align != 0 ||
	    v->offset > v->buf->size || v->size > v->buf->size - v->offset)
		return err_set(err, ERR_RANGE,
		    "texel view %llu+%llu of buffer '%s' (%llu bytes): "
		    "offset must be a multiple of %llu, size of 16",
		    (unsigned long long)v->offset, (unsigned long long)v->size,
		    v->buf->label, (unsigned long long)v->buf->size,
		    (unsigned long long)dev->info.texel_align);
	if (v->size / 16 > dev->info.max_texels)
		return err_set(err, ERR_UNSUPPORTED,
		    "texel view of %llu bytes of '%s' exceeds the device's "
		    "%llu texels",
		    (unsigned long long)v->size, v->buf->label,
		    (unsigned long long)dev->info.max_texels);
	r = vkCreateBufferView(dev->dev, &ci, NULL, out);
	if (r != VK_SUCCESS) {
		*out = VK_NULL_HANDLE;
		return vk_device_check(r, "vkCreateBufferView", err);
	}
	return 0;
}

void
vk_buf_texel_free(struct vk_device *dev, VkBufferView t)
{
	if (t != VK_NULL_HANDLE)
		vkDestroyBufferView(dev->dev, t, NULL);
}

static int
vk_buf_range(
    const struct vk_buf *b, uint64_t offset, uint64_t size, struct err *err)
{
	if (offset > b->size || size > b->size - offset)
		return err_set(err, ERR_RANGE,
		    "buffer '%s': range %llu+%llu outside its %llu bytes",
		    b->label, (unsigned long long)offset,
		    (unsigned long long)size, (unsigned long long)b->size);
	return 0;
}

/* Make sure the device's staging buffer holds at least min(SIZE, max). */
static int
vk_buf_staging(struct vk_device *dev, uint64_t size, struct err *err)
{
	uint64_t want = size < VK_BUF_STAGING_MAX ? size : VK_BUF_STAGING_MAX;

	if (dev->staging != NULL && dev->staging->size >= want)
		return 0;
	vk_buf_free(dev->staging);
	dev->staging = NULL;
	return vk_buf_new(
	    dev, want, VK_BUF_HOST, "staging", &dev->staging, err);
}

/* Copy between B and the staging buffer on the device; waits. */
static int
vk_buf_copy(
    struct vk_buf *b, uint64_t offset, uint64_t size, int to_b, struct err *err)
{
	struct vk_device *dev = b->dev;
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkMemoryBarrier before = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT |
		    VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
		.dstAccessMask =
		    VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	};
	VkMemoryBarrier after = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_SHADER_READ_BIT |
		    VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT,
	};
	VkBufferCopy region = { .size = size };
	VkResult r;

	if (to_b)
		region.dstOffset = offset;
	else
		region.srcOffset = offset;
	r = vkBeginCommandBuffer(dev->xfer_cb, &bi);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkBeginCommandBuffer", err);
	vkCmdPipelineBarrier(dev->xfer_cb,
	    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
		VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
	    VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
	if (to_b)
		vkCmdCopyBuffer(
		    dev->xfer_cb, dev->staging->buf, b->buf, 1, &region);
	else
		vkCmdCopyBuffer(
		    dev->xfer_cb, b->buf, dev->staging->buf, 1, &region);
	vkCmdPipelineBarrier(dev->xfer_cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
	    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
	    0, 1, &after, 0, NULL, 0, NULL);
	r = vkEndCommandBuffer(dev->xfer_cb);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkEndCommandBuffer", err);
	return vk_device_submit(dev, dev->xfer_cb, dev->xfer_fence, err);
}

int
vk_buf_upload(struct vk_buf *b, uint64_t offset, const void *data,
    uint64_t size, struct err *err)
{
	const unsigned char *p = data;
	int rc;

	rc = vk_buf_range(b, offset, size, err);
	if (rc < 0 || size == 0)
		return rc;
	if (b->map != NULL) {
		VkMappedMemoryRange mr = {
			.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
			.memory = b->mem,
			.size = VK_WHOLE_SIZE,
		};

		memcpy((unsigned char *)b->map + offset, data, size);
		if (!b->coherent)
			return vk_device_check(
			    vkFlushMappedMemoryRanges(b->dev->dev, 1, &mr),
			    "vkFlushMappedMemoryRanges", err);
		return 0;
	}
	rc = vk_buf_staging(b->dev, size, err);
	while (rc == 0 && size > 0) {
		uint64_t n =
		    size < b->dev->staging->size ? size : b->dev->staging->size;

		memcpy(b->dev->staging->map, p, n);
		rc = vk_buf_copy(b, offset, n, 1, err);
		p += n;
		offset += n;
		size -= n;
	}
	return rc;
}

int
vk_buf_download(struct vk_buf *b, uint64_t offset, void *data, uint64_t size,
    struct err *err)
{
	unsigned char *p = data;
	int rc;

	rc = vk_buf_range(b, offset, size, err);
	if (rc < 0 || size == 0)
		return rc;
	if (b->map != NULL) {
		VkMappedMemoryRange mr = {
			.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
			.memory = b->mem,
			.size = VK_WHOLE_SIZE,
		};

		if (!b->coherent) {
			rc = vk_device_check(
			    vkInvalidateMappedMemoryRanges(b->dev->dev, 1, &mr),
			    "vkInvalidateMappedMemoryRanges", err);
			if (rc < 0)
				return rc;
		}
		memcpy(data, (unsigned char *)b->map + offset, size);
		return 0;
	}
	rc = vk_buf_staging(b->dev, size, err);
	while (rc == 0 && size > 0) {
		uint64_t n =
		    size < b->dev->staging->size ? size : b->dev->staging->size;

		rc = vk_buf_copy(b, offset, n, 0, err);
		if (rc == 0)
			memcpy(p, b->dev->staging->map, n);
		p += n;
		offset += n;
		size -= n;
	}
	return rc;
}

static uint64_t
vk_buf_gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int
vk_buf_split_rows(uint64_t row_bytes, uint64_t n_rows, uint64_t max_bytes,
    uint64_t align, struct vk_buf_chunk **out, size_t *n, struct err *err)
{
	uint64_t step, max_rows, n_chunks, per, row0;
	struct vk_buf_chunk *c;
	size_t i;

	*out = NULL;
	*n = 0;
	if (row_bytes == 0 || n_rows == 0 || max_bytes == 0 || align == 0 ||
	    (align & (align - 1)) != 0)
		return err_set(err, ERR_RANGE,
		    "cannot split %llu rows of %llu bytes (limit %llu, "
		    "alignment %llu)",
		    (unsigned long long)n_rows, (unsigned long long)row_bytes,
		    (unsigned long long)max_bytes, (unsigned long long)align);
	/* Chunk starts must be multiples of ALIGN: rows in steps of STEP. */
	step = align / vk_buf_gcd(row_bytes, align);
	max_rows = max_bytes / row_bytes / step * step;
	if (max_rows == 0)
		return err_set(err, ERR_UNSUPPORTED,
		    "a row of %llu bytes (in groups of %llu rows) does not fit "
		    "the device's %llu-byte storage-buffer range",
		    (unsigned long long)row_bytes, (unsigned long long)step,
		    (unsigned long long)max_bytes);
	n_chunks = (n_rows + max_rows - 1) / max_rows;
	/* Spread the rows evenly, rounded up to the step. */
	per = (n_rows + n_chunks - 1) / n_chunks;
	per = (per + step - 1) / step * step;
	if (per > max_rows)
		per = max_rows;
	n_chunks = (n_rows + per - 1) / per;
	c = xcalloc(n_chunks, sizeof *c);
	for (i = 0, row0 = 0; i < n_chunks; i++, row0 += per) {
		c[i].row0 = row0;
		c[i].rows = n_rows - row0 < per ? n_rows - row0 : per;
		c[i].offset = row0 * row_bytes;
		c[i].size = c[i].rows * row_bytes;
	}
	*out = c;
	*n = n_chunks;
	return 0;
}

uint64_t
vk_buf_max_view(const struct vk_device *dev)
{
	uint64_t m = dev->info.max_storage_range;

	if (dev->info.max_alloc < m)
		m = dev->info.max_alloc;
	if (m > (2ull << 30))
		m = 2ull << 30;
	return m;
}

int
vk_buf_copy_regions(struct vk_device *dev, const struct vk_buf_region *r,
    size_t n, struct err *err)
{
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkMemoryBarrier before = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT |
		    VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
		.dstAccessMask =
		    VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	};
	VkMemoryBarrier after = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_SHADER_READ_BIT |
		    VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT,
	};
	VkResult res;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = vk_buf_range(
			 r[i].src, r[i].src_off, r[i].size, err)) < 0 ||
		    (rc = vk_buf_range(
			 r[i].dst, r[i].dst_off, r[i].size, err)) < 0)
			return rc;
	res = vkBeginCommandBuffer(dev->xfer_cb, &bi);
	if (res != VK_SUCCESS)
		return vk_device_check(res, "vkBeginCommandBuffer", err);
	vkCmdPipelineBarrier(dev->xfer_cb,
	    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
		VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
	    VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
	for (i = 0; i < n; i++) {
		VkBufferCopy region = {
			.srcOffset = r[i].src_off,
			.dstOffset = r[i].dst_off,
			.size = r[i].size,
		};

		if (r[i].size > 0)
			vkCmdCopyBuffer(dev->xfer_cb, r[i].src->buf,
			    r[i].dst->buf, 1, &region);
	}
	vkCmdPipelineBarrier(dev->xfer_cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
	    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
	    0, 1, &after, 0, NULL, 0, NULL);
	res = vkEndCommandBuffer(dev->xfer_cb);
	if (res != VK_SUCCESS)
		return vk_device_check(res, "vkEndCommandBuffer", err);
	return vk_device_submit(dev, dev->xfer_cb, dev->xfer_fence, err);
}
