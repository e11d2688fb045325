/*
 * vk-pipe: compute pipelines made from the embedded shaders, and the
 * device's pipeline cache file.
 *
 * A pipeline binds N buffers at set 0, bindings 0..N-1 (storage buffers,
 * or uniform texel buffers where texel_mask says so), takes a
 * block of push constants, and is specialized with 32-bit constants
 * (constant_id 0..n-1; by convention id 0 is the workgroup size).  It
 * records which bindings it writes, so a command graph can place
 * barriers only where a later dispatch depends on an earlier one.
 *
 * The cache file is $XDG_CACHE_HOME/vkchat/pipeline-cache-VENDOR-DEVICE.bin:
 * our own header (magic, length, checksum) around the driver's data, whose
 * Vulkan header (vendor, device, pipelineCacheUUID) must match the device.
 * A missing, corrupt or foreign file is ignored: the cache only saves
 * time.
 */
#ifndef VKCHAT_VK_PIPE_H
#define VKCHAT_VK_PIPE_H

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "err.h"
#include "vk-device.h"

#define VK_PIPE_MAX_BIND 8
#define VK_PIPE_MAX_SPEC 8

struct vk_pipe_desc {
	const char *shader;  /* name in the embedded table */
	uint32_t n_bind;     /* storage buffers at bindings 0..n_bind-1 */
	uint32_t write_mask; /* bit i set: binding i is written */
	uint32_t
	    texel_mask;	    /* bit i set: binding i is a uniform texel buffer */
	uint32_t push_size; /* bytes of push constants (multiple of 4) */
	uint32_t n_spec;    /* specialization constants 0..n_spec-1 */
	uint32_t spec[VK_PIPE_MAX_SPEC];
};

struct vk_pipe {
	struct vk_device *dev;
	struct vk_pipe_desc desc;
	VkDescriptorSetLayout set_layout;
	VkPipelineLayout layout;
	VkPipeline pipe;
};

/*
 * Make the pipeline described by D (copied) on DEV, through the device's
 * pipeline cache when one is open.  ERR_NOTFOUND for an unknown shader,
 * ERR_RANGE for too many bindings/constants, ERR_DEVICE when the driver
 * refuses it.
 */
int vk_pipe_new(struct vk_device *dev, const struct vk_pipe_desc *d,
    struct vk_pipe **out, struct err *err);

/* Free P.  NULL is ignored. */
void vk_pipe_free(struct vk_pipe *p);

/*
 * The default cache file for DEV (newly allocated), or NULL when no XDG
 * cache directory can be found.
 */
char *vk_pipe_cache_path(const struct vk_device *dev);

/*
 * Create DEV's pipeline cache, seeded from PATH (NULL: the default path)
 * when that file exists and is valid; dev->pcache_loaded tells how many
 * bytes were accepted.  The path is kept for vk_pipe_cache_save.  Fails
 * only when the driver cannot make an empty cache.
 */
int vk_pipe_cache_open(
    struct vk_device *dev, const char *path, struct err *err);

/* Write DEV's cache to its file (creating the directory). */
int vk_pipe_cache_save(struct vk_device *dev, struct err *err);

#endif
