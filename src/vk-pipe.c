/*
 * vk-pipe: pipelines from embedded SPIR-V, and the pipeline cache file.
 *
 * Cache file layout (host byte order; the file never leaves the machine):
 *   0  "VKCHATPC"          magic
 *   8  u32 1               our format version
 *   12 u32 0               reserved
 *   16 u64 N               bytes of driver data
 *   24 u64 FNV-1a          checksum of the driver data
 *   32 N bytes             vkGetPipelineCacheData output
 * The driver data starts with the Vulkan cache header (length, version
 * 1, vendorID, deviceID, pipelineCacheUUID), checked against the device
 * before the driver sees it: drivers are meant to reject foreign data
 * themselves, but not all do so gracefully.
 */
#include "vk-pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shaders.h"
#include "util.h"

#define VK_PIPE_MAGIC "VKCHATPC"
#define VK_PIPE_HDR 32

static int
vk_pipe_fail(struct vk_pipe *p, int rc)
{
	vk_pipe_free(p);
	return rc;
}

int
vk_pipe_new(struct vk_device *dev, const struct vk_pipe_desc *d,
    struct vk_pipe **out, struct err *err)
{
	const struct shader_blob *blob = shader_find(d->shader);
	VkDescriptorSetLayoutBinding binds[VK_PIPE_MAX_BIND];
	VkSpecializationMapEntry map[VK_PIPE_MAX_SPEC];
	char what[96];
	VkDescriptorSetLayoutCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = d->n_bind,
		.pBindings = binds,
	};
	VkPushConstantRange pcr = {
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		.size = d->push_size,
	};
	VkPipelineLayoutCreateInfo lci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pushConstantRangeCount = d->push_size > 0 ? 1 : 0,
		.pPushConstantRanges = &pcr,
	};
	VkShaderModuleCreateInfo sci = {
		.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
	};
	VkSpecializationInfo spec = { 0 };
	VkComputePipelineCreateInfo cci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {
		    .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
		    .stage = VK_SHADER_STAGE_COMPUTE_BIT,
		    .pName = "main",
		    .pSpecializationInfo = &spec,
		},
	};
	VkShaderModule mod = VK_NULL_HANDLE;
	struct vk_pipe *p;
	uint32_t i;
	VkResult r;

	*out = NULL;
	if (blob == NULL)
		return err_set(
		    err, ERR_NOTFOUND, "no shader named '%s'", d->shader);
	if (d->n_bind > VK_PIPE_MAX_BIND || d->n_spec > VK_PIPE_MAX_SPEC ||
	    d->push_size % 4 != 0 || d->push_size > dev->info.max_push)
		return err_set(err, ERR_RANGE,
		    "shader '%s': %u bindings, %u constants, %u push bytes "
		    "exceed the limits",
		    d->shader, d->n_bind, d->n_spec, d->push_size);
	p = xcalloc(1, sizeof *p);
	p->dev = dev;
	p->desc = *d;
	for (i = 0; i < d->n_bind; i++) {
		binds[i] = (VkDescriptorSetLayoutBinding){
			.binding = i,
			.descriptorType = (d->texel_mask >> i) & 1
			    ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
			    : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.descriptorCount = 1,
			.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		};
	}
	r = vkCreateDescriptorSetLayout(dev->dev, &dci, NULL, &p->set_layout);
	if (r != VK_SUCCESS)
		return vk_pipe_fail(
		    p, vk_device_check(r, "vkCreateDescriptorSetLayout", err));
	lci.pSetLayouts = &p->set_layout;
	r = vkCreatePipelineLayout(dev->dev, &lci, NULL, &p->layout);
	if (r != VK_SUCCESS)
		return vk_pipe_fail(
		    p, vk_device_check(r, "vkCreatePipelineLayout", err));
	sci.codeSize = blob->size;
	sci.pCode = blob->code;
	r = vkCreateShaderModule(dev->dev, &sci, NULL, &mod);
	if (r != VK_SUCCESS)
		return vk_pipe_fail(
		    p, vk_device_check(r, "vkCreateShaderModule", err));
	for (i = 0; i < d->n_spec; i++)
		map[i] = (VkSpecializationMapEntry){
			.constantID = i,
			.offset = i * 4,
			.size = 4,
		};
	spec.mapEntryCount = d->n_spec;
	spec.pMapEntries = map;
	spec.dataSize = d->n_spec * 4;
	spec.pData = p->desc.spec;
	cci.stage.module = mod;
	cci.layout = p->layout;
	snprintf(what, sizeof what, "making pipeline '%s'", d->shader);
	if (vk_device_room(VK_DEVICE_ROOM_PIPE, what, err) != 0) {
		vkDestroyShaderModule(dev->dev, mod, NULL);
		return vk_pipe_fail(p, ERR_NOMEM);
	}
	r = vkCreateComputePipelines(
	    dev->dev, dev->pcache, 1, &cci, NULL, &p->pipe);
	vkDestroyShaderModule(dev->dev, mod, NULL);
	if (r != VK_SUCCESS)
		return vk_pipe_fail(p, vk_device_check(r, what, err));
	*out = p;
	return 0;
}

void
vk_pipe_free(struct vk_pipe *p)
{
	if (p == NULL)
		return;
	if (p->pipe != VK_NULL_HANDLE)
		vkDestroyPipeline(p->dev->dev, p->pipe, NULL);
	if (p->layout != VK_NULL_HANDLE)
		vkDestroyPipelineLayout(p->dev->dev, p->layout, NULL);
	if (p->set_layout != VK_NULL_HANDLE)
		vkDestroyDescriptorSetLayout(p->dev->dev, p->set_layout, NULL);
	free(p);
}

char *
vk_pipe_cache_path(const struct vk_device *dev)
{
	char *dir = util_xdg_dir("cache");
	char *path;

	if (dir == NULL)
		return NULL;
	path = xasprintf("%s/pipeline-cache-%04x-%04x.bin", dir,
	    dev->info.vendor_id, dev->info.device_id);
	free(dir);
	return path;
}

static uint64_t
vk_pipe_fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The length of valid driver data in FILE (LEN bytes), or 0. */
static size_t
vk_pipe_cache_check(
    const struct vk_device *dev, const unsigned char *file, size_t len)
{
	VkPhysicalDeviceProperties props;
	const unsigned char *data = file + VK_PIPE_HDR;
	uint64_t n, sum;
	uint32_t v, hdr[4];

	if (len < VK_PIPE_HDR || memcmp(file, VK_PIPE_MAGIC, 8) != 0)
		return 0;
	memcpy(&v, file + 8, 4);
	memcpy(&n, file + 16, 8);
	memcpy(&sum, file + 24, 8);
	if (v != 1 || n != len - VK_PIPE_HDR || n < 16 + VK_UUID_SIZE ||
	    vk_pipe_fnv(data, n) != sum)
		return 0;
	memcpy(hdr, data, sizeof hdr);
	vkGetPhysicalDeviceProperties(dev->phys, &props);
	if (hdr[0] < 16 + VK_UUID_SIZE || hdr[0] > n ||
	    hdr[1] != VK_PIPELINE_CACHE_HEADER_VERSION_ONE ||
	    hdr[2] != props.vendorID || hdr[3] != props.deviceID ||
	    memcmp(data + 16, props.pipelineCacheUUID, VK_UUID_SIZE) != 0)
		return 0;
	return n;
}

int
vk_pipe_cache_open(struct vk_device *dev, const char *path, struct err *err)
{
	VkPipelineCacheCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
	};
	char *file = NULL;
	size_t len = 0;
	VkResult r;

	free(dev->pcache_path);
	dev->pcache_path =
	    path != NULL ? xstrdup(path) : vk_pipe_cache_path(dev);
	dev->pcache_loaded = 0;
	if (dev->pcache != VK_NULL_HANDLE) {
		vkDestroyPipelineCache(dev->dev, dev->pcache, NULL);
		dev->pcache = VK_NULL_HANDLE;
	}
	/* A missing or unreadable file just means an empty cache. */
	if (dev->pcache_path != NULL &&
	    util_read_file(dev->pcache_path, 0, &file, &len, NULL) == 0) {
		size_t n =
		    vk_pipe_cache_check(dev, (const unsigned char *)file, len);

		if (n > 0) {
			ci.initialDataSize = n;
			ci.pInitialData = file + VK_PIPE_HDR;
		}
	}
	r = vkCreatePipelineCache(dev->dev, &ci, NULL, &dev->pcache);
	if (r != VK_SUCCESS && ci.initialDataSize > 0) {
		ci.initialDataSize = 0;
		ci.pInitialData = NULL;
		r = vkCreatePipelineCache(dev->dev, &ci, NULL, &dev->pcache);
	}
	dev->pcache_loaded = ci.initialDataSize;
	free(file);
	return vk_device_check(r, "vkCreatePipelineCache", err);
}

int
vk_pipe_cache_save(struct vk_device *dev, struct err *err)
{
	unsigned char *buf;
	char *dir, *slash;
	size_t n = 0;
	uint32_t v[2] = { 1, 0 };
	uint64_t len, sum;
	VkResult r;
	int rc;

	if (dev->pcache == VK_NULL_HANDLE || dev->pcache_path == NULL)
		return err_set(err, ERR_USAGE, "no pipeline cache is open");
	r = vkGetPipelineCacheData(dev->dev, dev->pcache, &n, NULL);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkGetPipelineCacheData", err);
	buf = xmalloc(VK_PIPE_HDR + n);
	r = vkGetPipelineCacheData(
	    dev->dev, dev->pcache, &n, buf + VK_PIPE_HDR);
	if (r != VK_SUCCESS) {
		free(buf);
		return vk_device_check(r, "vkGetPipelineCacheData", err);
	}
	len = n;
	sum = vk_pipe_fnv(buf + VK_PIPE_HDR, n);
	memcpy(buf, VK_PIPE_MAGIC, 8);
	memcpy(buf + 8, v, 8);
	memcpy(buf + 16, &len, 8);
	memcpy(buf + 24, &sum, 8);
	dir = xstrdup(dev->pcache_path);
	slash = strrchr(dir, '/');
	rc = 0;
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = util_mkdirs(dir, 0700, err);
	}
	if (rc == 0)
		rc = util_write_file(
		    dev->pcache_path, buf, VK_PIPE_HDR + n, 0600, err);
	free(dir);
	free(buf);
	return rc;
}
