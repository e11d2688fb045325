/*
 * vk-device: the Vulkan instance, the chosen physical device, the logical
 * device with one compute queue, and what the kernels may use on it
 * (limits, subgroup size, optional features).
 *
 * A device is usable when it offers Vulkan 1.2, a compute queue,
 * storageBuffer16BitAccess (every kernel reads f16, bf16 and quantized
 * weights as 16-bit words: lavapipe and the desktop GPU drivers all have
 * it) and subgroup basic + arithmetic operations in compute shaders (the
 * reductions use subgroupAdd/Max/Min).  Optional features (8-bit storage,
 * shaderFloat16, shaderInt8, shaderInt16) are enabled when offered and
 * reported, not required.
 *
 * Choice: discrete GPU first, then integrated, virtual, CPU (lavapipe);
 * an explicit index or VKCHAT_DEVICE=N overrides.  With VKCHAT_VALIDATE=1
 * the Khronos validation layer (with synchronization validation) is
 * enabled and a debug-utils messenger counts its warnings and errors.
 *
 * Threads: a device and everything made from it are used by one thread
 * at a time (the engine thread).
 */
#ifndef VKCHAT_VK_DEVICE_H
#define VKCHAT_VK_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "err.h"

/* Optional capabilities, as offered (in a listing) or enabled (in use). */
struct vk_device_features {
	int storage16;	    /* storageBuffer16BitAccess (required) */
	int storage8;	    /* storageBuffer8BitAccess */
	int float16;	    /* shaderFloat16 */
	int int8;	    /* shaderInt8 */
	int int16;	    /* shaderInt16 */
	int subgroup_arith; /* subgroup basic + arithmetic in compute */
	int subgroup_shuffle;
	int size_control; /* VK_EXT_subgroup_size_control present */
	int coopmat;	  /* VK_KHR_cooperative_matrix present (not used yet) */
};

/* What the listing shows and the kernels need to know about a device. */
struct vk_device_info {
	int index; /* in vkEnumeratePhysicalDevices order */
	char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	const char *type; /* "discrete", "integrated", "virtual", "cpu" */
	VkPhysicalDeviceType vk_type;
	uint32_t vendor_id, device_id;
	char driver_name[VK_MAX_DRIVER_NAME_SIZE];
	char driver_info[VK_MAX_DRIVER_INFO_SIZE];
	uint32_t driver_version, api_version;
	uint64_t local_bytes; /* sum of the device-local heaps */
	uint32_t subgroup_size, subgroup_min, subgroup_max;
	uint64_t max_storage_range; /* maxStorageBufferRange */
	uint64_t max_alloc;	    /* maxMemoryAllocationSize */
	uint64_t storage_align;	    /* minStorageBufferOffsetAlignment */
	uint64_t texel_align;	    /* minTexelBufferOffsetAlignment */
	uint64_t max_texels;	    /* maxTexelBufferElements */
	uint32_t max_shared;	    /* maxComputeSharedMemorySize */
	uint32_t max_invocations;   /* maxComputeWorkGroupInvocations */
	uint32_t max_groups[3];	    /* maxComputeWorkGroupCount */
	uint32_t max_push;	    /* maxPushConstantsSize */
	/* RGBA32UI uniform texel buffers (vk_buf_texel) */
	int texel_u128;
	struct vk_device_features feat;
	/*
	 * The kernel set the engine uses (set when the device is opened):
	 * 1 the CPU set (a row per invocation, texel-buffer weights, 64-token
	 * prompt steps), 0 the GPU set (a workgroup per row, storage buffers,
	 * 512-token steps).  By the device type, unless VKCHAT_KERNELS says
	 * "gpu" or "cpu": a CPU device then runs exactly what a GPU would.
	 */
	int cpu_kernels;
	/* a CPU device running each dispatch on one thread (vk_device_new) */
	int cpu_inline;
	const char *unusable; /* NULL, or why the engine cannot use it */
	int chosen;	      /* the automatic choice */
};

#define VK_DEVICE_MSG_KEEP 4

struct vk_buf;

/*
 * An open device.  The fields are read by the other vk-* modules; only
 * vk-device.c (and vk-pipe.c for the pipeline cache, vk-buf.c for the
 * staging buffer and heap accounting) change them.
 */
struct vk_device {
	VkInstance instance;
	VkDebugUtilsMessengerEXT messenger;
	VkPhysicalDevice phys;
	VkDevice dev;
	VkQueue queue;
	uint32_t queue_family;
	VkCommandPool pool;
	VkCommandBuffer xfer_cb; /* uploads and downloads */
	VkFence xfer_fence;
	VkPhysicalDeviceMemoryProperties mem;
	uint64_t heap_used[VK_MAX_MEMORY_HEAPS]; /* bytes we allocated */
	struct vk_device_info info;		 /* feat: what is enabled */
	struct vk_buf *staging;			 /* owned; made on demand */
	VkPipelineCache pcache;
	char *pcache_path;    /* owned; NULL until vk_pipe_cache_open */
	size_t pcache_loaded; /* bytes of cache data accepted from the file */
	int validate;
	unsigned n_msgs; /* validation warnings + errors */
	char msgs[VK_DEVICE_MSG_KEEP][512];
};

/*
 * List every physical device (usable or not, with the reason) into a
 * newly allocated array the caller frees with free().  ERR_DEVICE when
 * there is no Vulkan driver or no device at all (the message says how to
 * install lavapipe).
 */
int vk_device_list(struct vk_device_info **out, int *n, struct err *err);

/*
 * Open device INDEX (-1: VKCHAT_DEVICE if set, else the automatic
 * choice).  *out is a heap object freed with vk_device_free.  ERR_DEVICE
 * with a message when no usable device exists, validation was asked for
 * but is not installed, or creation fails; ERR_USAGE for a bad index.
 *
 * CPU_INLINE asks a CPU device (llvmpipe) to run each dispatch on the
 * submitting thread instead of handing it to its pool of one thread per
 * core: for small models, where the hand-off (about 40 us a dispatch)
 * costs more than the second core saves.  It sets LP_NUM_THREADS=0 for
 * the process (or sets it back to llvmpipe's default), unless the user
 * had set LP_NUM_THREADS; info.cpu_inline says what the device got.
 */
int vk_device_new(
    int index, int cpu_inline, struct vk_device **out, struct err *err);

/*
 * Note whether the user set LP_NUM_THREADS, and add it to the environment
 * if not.  vk_device_new does this on first use; a program that opens
 * devices from several threads calls it first, before starting any, as
 * adding a variable is not safe while another thread reads the
 * environment.
 */
void vk_device_threads_init(void);

/*
 * Free DEV, its staging buffer and pipeline cache handle (saving the
 * cache file first when one was opened).  Everything made from DEV must
 * be freed before.  NULL is ignored.
 */
void vk_device_free(struct vk_device *dev);

/* The number of validation warnings and errors reported so far. */
unsigned vk_device_messages(const struct vk_device *dev);

/* The text of kept message I (the first VK_DEVICE_MSG_KEEP), or NULL. */
const char *vk_device_message(const struct vk_device *dev, unsigned i);

/*
 * The enabled/offered features of F as a space-separated list of names
 * ("subgroup-arith storage16 ...") into BUF; returns BUF.
 */
const char *vk_device_features_str(
    const struct vk_device_features *f, char *buf, size_t size);

/* A driver version in the vendor's own numbering ("580.65.6"), into BUF. */
const char *vk_device_driver_version(
    const struct vk_device_info *info, char *buf, size_t size);

/*
 * Turn a failed VkResult of WHAT into an error: ERR_NOMEM for the
 * out-of-memory results, ERR_DEVICE otherwise (device lost named as
 * such).  Returns the code (0 for VK_SUCCESS, which sets nothing).
 */
int vk_device_check(VkResult r, const char *what, struct err *err);

/*
 * The address space a driver call that loads or compiles code needs left
 * over, a measured guess with a margin: lavapipe (LLVM) crashes instead of
 * failing when it runs out while making the device (a worker thread per
 * core) or a pipeline, and its loader says "no device" when the driver
 * cannot even be mapped.  vk_device_room() checks first, so that a limit
 * such as 'ulimit -v' ends in an out-of-memory error instead.
 */
#define VK_DEVICE_ROOM_PIPE ((size_t)64 << 20)

/* The room for loading a driver and making a device: see above. */
size_t vk_device_room_driver(void);

/* 0 when BYTES of address space are free, else ERR_NOMEM naming WHAT. */
int vk_device_room(size_t bytes, const char *what, struct err *err);

/*
 * Submit command buffer CB on the queue and wait for FENCE (reset first).
 * ERR_DEVICE on device loss or when it takes longer than five minutes.
 */
int vk_device_submit(
    struct vk_device *dev, VkCommandBuffer cb, VkFence fence, struct err *err);

#endif
