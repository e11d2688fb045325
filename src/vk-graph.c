/*
 * vk-graph: record once, replay many.  See vk-graph.h.
 *
 * Descriptor sets come from pools of VK_GRAPH_POOL_SETS sets; when one is
 * full another is made.  vk_graph_begin resets them all, so re-recording
 * reuses the pools.  The hazard list (ranges touched since the last
 * barrier) grows during recording only.
 */
#include "vk-graph.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define VK_GRAPH_POOL_SETS 256

struct vk_graph_access {
	VkBuffer buf;
	uint64_t lo, hi; /* [lo, hi) bytes */
	int write;
};

struct vk_graph {
	struct vk_device *dev;
	VkCommandBuffer cb;
	VkFence fence;
	VkDescriptorPool *pools;
	size_t n_pools, cur_pool;
	struct vk_graph_access *acc; /* since the last barrier */
	size_t n_acc, cap_acc;
	unsigned n_dispatch, n_barrier;
	int recording, recorded;
	struct err err; /* the first recording error */
};

static int
vk_graph_add_pool(struct vk_graph *g, struct err *err)
{
	/* any mix of storage and texel buffers (a pool per 256 sets) */
	VkDescriptorPoolSize size[2] = {
		{ VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		    VK_GRAPH_POOL_SETS * VK_PIPE_MAX_BIND },
		{ VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
		    VK_GRAPH_POOL_SETS * VK_PIPE_MAX_BIND },
	};
	VkDescriptorPoolCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = VK_GRAPH_POOL_SETS,
		.poolSizeCount = 2,
		.pPoolSizes = size,
	};
	VkResult r;

	g->pools = xreallocarray(g->pools, g->n_pools + 1, sizeof *g->pools);
	r = vkCreateDescriptorPool(
	    g->dev->dev, &ci, NULL, &g->pools[g->n_pools]);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkCreateDescriptorPool", err);
	g->n_pools++;
	return 0;
}

int
vk_graph_new(struct vk_device *dev, struct vk_graph **out, struct err *err)
{
	struct vk_graph *g = xcalloc(1, sizeof *g);
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = dev->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkFenceCreateInfo fci = { .sType =
				      VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkResult r;
	int rc;

	*out = NULL;
	g->dev = dev;
	r = vkAllocateCommandBuffers(dev->dev, &cai, &g->cb);
	if (r != VK_SUCCESS) {
		rc = vk_device_check(r, "vkAllocateCommandBuffers", err);
		goto fail;
	}
	r = vkCreateFence(dev->dev, &fci, NULL, &g->fence);
	if (r != VK_SUCCESS) {
		rc = vk_device_check(r, "vkCreateFence", err);
		goto fail;
	}
	rc = vk_graph_add_pool(g, err);
	if (rc < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	vk_graph_free(g);
	return rc;
}

void
vk_graph_free(struct vk_graph *g)
{
	size_t i;

	if (g == NULL)
		return;
	vkDeviceWaitIdle(g->dev->dev);
	for (i = 0; i < g->n_pools; i++)
		vkDestroyDescriptorPool(g->dev->dev, g->pools[i], NULL);
	if (g->fence != VK_NULL_HANDLE)
		vkDestroyFence(g->dev->dev, g->fence, NULL);
	if (g->cb != VK_NULL_HANDLE)
		vkFreeCommandBuffers(g->dev->dev, g->dev->pool, 1, &g->cb);
	free(g->pools);
	free(g->acc);
	free(g);
}

static void
vk_graph_mem_barrier(struct vk_graph *g, VkPipelineStageFlags src,
    VkAccessFlags src_access, VkPipelineStageFlags dst,
    VkAccessFlags dst_access)
{
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = src_access,
		.dstAccessMask = dst_access,
	};

	vkCmdPipelineBarrier(g->cb, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

int
vk_graph_begin(struct vk_graph *g, struct err *err)
{
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
	};
	size_t i;
	VkResult r;

	err_clear(&g->err);
	g->n_acc = 0;
	g->n_dispatch = g->n_barrier = 0;
	g->recorded = 0;
	g->cur_pool = 0;
	for (i = 0; i < g->n_pools; i++)
		vkResetDescriptorPool(g->dev->dev, g->pools[i], 0);
	r = vkResetCommandBuffer(g->cb, 0);
	if (r == VK_SUCCESS)
		r = vkBeginCommandBuffer(g->cb, &bi);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkBeginCommandBuffer", err);
	g->recording = 1;
	/* Order this replay after the previous one and after uploads. */
	vk_graph_mem_barrier(g,
	    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
		VK_PIPELINE_STAGE_TRANSFER_BIT,
	    VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
	    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
	return 0;
}

void
vk_graph_barrier(struct vk_graph *g)
{
	vk_graph_mem_barrier(g, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
	    VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
	    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
	g->n_barrier++;
	g->n_acc = 0;
}

/* Whether access A conflicts with an access since the last barrier. */
static int
vk_graph_hazard(const struct vk_graph *g, const struct vk_graph_access *a)
{
	size_t i;

	for (i = 0; i < g->n_acc; i++) {
		const struct vk_graph_access *b = &g->acc[i];

		if (b->buf == a->buf && a->lo < b->hi && b->lo < a->hi &&
		    (a->write || b->write))
			return 1;
	}
	return 0;
}

/* Keep the first error and return it. */
static int
vk_graph_fail(struct vk_graph *g, struct err *err)
{
	if (g->err.code == ERR_OK)
		g->err = *err;
	return err->code;
}

/* Check the dispatch's views and group counts into *E. */
static int
vk_graph_check(const struct vk_graph *g, const struct vk_pipe *p,
    const struct vk_view *views, const uint32_t groups[3], struct err *e)
{
	const struct vk_device_info *info = &g->dev->info;
	uint32_t i;

	if (!g->recording)
		return err_set(e, ERR_USAGE,
		    "shader '%s': dispatch outside vk_graph_begin/end",
		    p->desc.shader);
	for (i = 0; i < 3; i++)
		if (groups[i] == 0 || groups[i] > info->max_groups[i])
			return err_set(e, ERR_RANGE,
			    "shader '%s': %u workgroups in dimension %u "
			    "(device limit %u)",
			    p->desc.shader, groups[i], i, info->max_groups[i]);
	for (i = 0; i < p->desc.n_bind; i++) {
		const struct vk_view *v = &views[i];

		if (v->buf == NULL || v->size == 0 ||
		    v->offset > v->buf->size ||
		    v->size > v->buf->size - v->offset)
			return err_set(e, ERR_RANGE,
			    "shader '%s' binding %u: view %llu+%llu outside "
			    "buffer '%s'",
			    p->desc.shader, i, (unsigned long long)v->offset,
			    (unsigned long long)v->size,
			    v->buf != NULL ? v->buf->label : "(none)");
		if ((p->desc.texel_mask >> i) & 1) {
			if (v->texel == VK_NULL_HANDLE)
				return err_set(e, ERR_USAGE,
				    "shader '%s' binding %u: '%s' has no texel "
				    "view",
				    p->desc.shader, i, v->buf->label);
			continue; /* checked by vk_buf_texel */
		}
		if (v->offset % info->storage_align != 0)
			return err_set(e, ERR_RANGE,
			    "shader '%s' binding %u: offset %llu in '%s' is "
			    "not a multiple of %llu",
			    p->desc.shader, i, (unsigned long long)v->offset,
			    v->buf->label,
			    (unsigned long long)info->storage_align);
		if (v->size > info->max_storage_range)
			return err_set(e, ERR_RANGE,
			    "shader '%s' binding %u: %llu bytes of '%s' exceed "
			    "the device's storage-buffer range %llu",
			    p->desc.shader, i, (unsigned long long)v->size,
			    v->buf->label,
			    (unsigned long long)info->max_storage_range);
	}
	return 0;
}

/* A descriptor set for P, from the current pool or a new one. */
static int
vk_graph_set(struct vk_graph *g, const struct vk_pipe *p, VkDescriptorSet *set,
    struct err *err)
{
	VkDescriptorSetAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorSetCount = 1,
		.pSetLayouts = &p->set_layout,
	};
	VkResult r;
	int rc;

	for (;;) {
		ai.descriptorPool = g->pools[g->cur_pool];
		r = vkAllocateDescriptorSets(g->dev->dev, &ai, set);
		if (r != VK_ERROR_OUT_OF_POOL_MEMORY &&
		    r != VK_ERROR_FRAGMENTED_POOL)
			return vk_device_check(
			    r, "vkAllocateDescriptorSets", err);
		if (g->cur_pool + 1 == g->n_pools) {
			rc = vk_graph_add_pool(g, err);
			if (rc < 0)
				return rc;
		}
		g->cur_pool++;
	}
}

int
vk_graph_dispatch(struct vk_graph *g, const struct vk_pipe *p,
    const struct vk_view *views, const void *push, uint32_t gx, uint32_t gy,
    uint32_t gz, struct err *err)
{
	VkDescriptorBufferInfo bi[VK_PIPE_MAX_BIND];
	VkWriteDescriptorSet w[VK_PIPE_MAX_BIND];
	uint32_t groups[3] = { gx, gy, gz };
	struct vk_graph_access a[VK_PIPE_MAX_BIND];
	VkDescriptorSet set;
	struct err e;
	uint32_t i;
	int hazard = 0;

	if (g->err.code != ERR_OK) {
		if (err != NULL)
			*err = g->err;
		return g->err.code;
	}
	err_clear(&e);
	if (vk_graph_check(g, p, views, groups, &e) < 0 ||
	    vk_graph_set(g, p, &set, &e) < 0) {
		if (err != NULL)
			*err = e;
		return vk_graph_fail(g, &e);
	}
	for (i = 0; i < p->desc.n_bind; i++) {
		bi[i] = (VkDescriptorBufferInfo){
			.buffer = views[i].buf->buf,
			.offset = views[i].offset,
			.range = views[i].size,
		};
		w[i] = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			.dstSet = set,
			.dstBinding = i,
			.descriptorCount = 1,
			.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.pBufferInfo = &bi[i],
		};
		if ((p->desc.texel_mask >> i) & 1) {
			w[i].descriptorType =
			    VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
			w[i].pBufferInfo = NULL;
			w[i].pTexelBufferView = &views[i].texel;
		}
		a[i] = (struct vk_graph_access){
			.buf = views[i].buf->buf,
			.lo = views[i].offset,
			.hi = views[i].offset + views[i].size,
			.write = (p->desc.write_mask >> i) & 1,
		};
		hazard |= vk_graph_hazard(g, &a[i]);
	}
	vkUpdateDescriptorSets(g->dev->dev, p->desc.n_bind, w, 0, NULL);
	if (hazard)
		vk_graph_barrier(g);
	if (g->n_acc + p->desc.n_bind > g->cap_acc) {
		g->cap_acc = g->cap_acc * 2 + VK_PIPE_MAX_BIND;
		g->acc = xreallocarray(g->acc, g->cap_acc, sizeof *g->acc);
	}
	memcpy(g->acc + g->n_acc, a, p->desc.n_bind * sizeof *a);
	g->n_acc += p->desc.n_bind;
	vkCmdBindPipeline(g->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipe);
	vkCmdBindDescriptorSets(g->cb, VK_PIPELINE_BIND_POINT_COMPUTE,
	    p->layout, 0, 1, &set, 0, NULL);
	if (p->desc.push_size > 0)
		vkCmdPushConstants(g->cb, p->layout,
		    VK_SHADER_STAGE_COMPUTE_BIT, 0, p->desc.push_size, push);
	vkCmdDispatch(g->cb, gx, gy, gz);
	g->n_dispatch++;
	return 0;
}

int
vk_graph_end(struct vk_graph *g, struct err *err)
{
	VkResult r;

	if (!g->recording)
		return err_set(err, ERR_USAGE, "graph is not recording");
	g->recording = 0;
	/* Results become visible to the host and to downloads. */
	vk_graph_mem_barrier(g, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
	    VK_ACCESS_SHADER_WRITE_BIT,
	    VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
	    VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
	r = vkEndCommandBuffer(g->cb);
	if (g->err.code != ERR_OK) {
		if (err != NULL)
			*err = g->err;
		return g->err.code;
	}
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkEndCommandBuffer", err);
	g->recorded = 1;
	return 0;
}

int
vk_graph_run(struct vk_graph *g, struct err *err)
{
	if (!g->recorded)
		return err_set(
		    err, ERR_USAGE, "graph has no finished recording");
	return vk_device_submit(g->dev, g->cb, g->fence, err);
}

void
vk_graph_stats(
    const struct vk_graph *g, unsigned *dispatches, unsigned *barriers)
{
	*dispatches = g->n_dispatch;
	*barriers = g->n_barrier;
}
