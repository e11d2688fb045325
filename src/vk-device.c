/*
 * vk-device: instance, device selection and the logical device.  See
 * vk-device.h for the requirements and the choice order.
 *
 * Probing fills a struct vk_device_info per physical device from
 * vkGetPhysicalDeviceProperties2/Features2 (the Vulkan 1.1 and 1.2
 * structures, plus the subgroup-size-control properties when the device
 * has that extension).  The same probe serves the listing and the open.
 *
 * Validation messages arrive on the driver's threads in principle, but
 * the layer calls back synchronously from the calling thread in practice;
 * the counter is only read by the thread that owns the device.
 */
#include "vk-device.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "vk-buf.h"
#include "vk-pipe.h"

#define VK_DEVICE_LAYER "VK_LAYER_KHRONOS_validation"
#define VK_DEVICE_NO_DRIVER \
	"no Vulkan device found: install lavapipe (apt-get install " \
	"mesa-vulkan-drivers) or a GPU driver"
#define VK_DEVICE_WAIT_NS (300ull * 1000 * 1000 * 1000)

static const char *
vk_device_result_str(VkResult r)
{
	switch (r) {
	case VK_SUCCESS:
		return "success";
	case VK_TIMEOUT:
		return "timeout";
	case VK_ERROR_OUT_OF_HOST_MEMORY:
		return "out of host memory";
	case VK_ERROR_OUT_OF_DEVICE_MEMORY:
		return "out of device memory";
	case VK_ERROR_INITIALIZATION_FAILED:
		return "initialization failed";
	case VK_ERROR_DEVICE_LOST:
		return "device lost";
	case VK_ERROR_MEMORY_MAP_FAILED:
		return "memory map failed";
	case VK_ERROR_LAYER_NOT_PRESENT:
		return "layer not present";
	case VK_ERROR_EXTENSION_NOT_PRESENT:
		return "extension not present";
	case VK_ERROR_FEATURE_NOT_PRESENT:
		return "feature not present";
	case VK_ERROR_INCOMPATIBLE_DRIVER:
		return "incompatible driver";
	case VK_ERROR_TOO_MANY_OBJECTS:
		return "too many objects";
	case VK_ERROR_FRAGMENTED_POOL:
		return "fragmented pool";
	case VK_ERROR_OUT_OF_POOL_MEMORY:
		return "out of pool memory";
	default:
		return "unknown error";
	}
}

int
vk_device_check(VkResult r, const char *what, struct err *err)
{
	if (r == VK_SUCCESS)
		return 0;
	if (r == VK_ERROR_OUT_OF_HOST_MEMORY ||
	    r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
		return err_set(
		    err, ERR_NOMEM, "%s: %s", what, vk_device_result_str(r));
	if (r == VK_ERROR_DEVICE_LOST)
		return err_set(err, ERR_DEVICE,
		    "%s: the Vulkan device was lost (driver reset or crash)",
		    what);
	return err_set(err, ERR_DEVICE, "%s failed: %s (VkResult %d)", what,
	    vk_device_result_str(r), (int)r);
}

size_t
vk_device_room_driver(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* measured: about 450 MiB for lavapipe on two cores */
	return ((size_t)512 + 32 * (size_t)(cpus > 0 ? cpus : 1)) << 20;
}

int
vk_device_room(size_t bytes, const char *what, struct err *err)
{
	if (util_headroom(bytes))
		return 0;
	return err_set(err, ERR_NOMEM,
	    "%s: out of memory (less than %zu MiB of address space left; "
	    "is 'ulimit -v' set?)",
	    what, bytes >> 20);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
vk_device_debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
    VkDebugUtilsMessageTypeFlagsEXT type,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
	struct vk_device *dev = user;

	if (!(severity &
		(VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
		    VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)))
		return VK_FALSE;
	if (dev->n_msgs < VK_DEVICE_MSG_KEEP)
		snprintf(dev->msgs[dev->n_msgs], sizeof dev->msgs[0], "%s",
		    data->pMessage != NULL ? data->pMessage : "(no text)");
	dev->n_msgs++;
	return VK_FALSE;
}

static int
vk_device_has_layer(const char *name)
{
	VkLayerProperties *props;
	uint32_t n = 0, i;
	int found = 0;

	if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS)
		return 0;
	props = xcalloc(n + 1, sizeof *props);
	if (vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
		for (i = 0; i < n; i++)
			if (strcmp(props[i].layerName, name) == 0)
				found = 1;
	free(props);
	return found;
}

static int
vk_device_has_ext(VkExtensionProperties *exts, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (strcmp(exts[i].extensionName, name) == 0)
			return 1;
	return 0;
}

/*
 * Create the instance; with DEV non-NULL and validation asked for, enable
 * the layer, synchronization validation and the messenger.
 */
static int
vk_device_instance(struct vk_device *dev, VkInstance *out, struct err *err)
{
	VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "vkchat",
		.pEngineName = "vkchat",
		.apiVersion = VK_API_VERSION_1_2 };
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkDebugUtilsMessengerCreateInfoEXT dci = {
		.sType =
		    VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
		.messageSeverity =
		    VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
		    VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
		.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
		    VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
		    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
		.pfnUserCallback = vk_device_debug_cb,
		.pUserData = dev,
	};
	VkValidationFeatureEnableEXT enables[] = {
		VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
	};
	VkValidationFeaturesEXT vf = {
		.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
		.enabledValidationFeatureCount = ARRAY_LEN(enables),
		.pEnabledValidationFeatures = enables,
	};
	const char *layers[] = { VK_DEVICE_LAYER };
	const char *exts[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME,
		VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME };
	VkResult r;

	if (dev != NULL && dev->validate) {
		if (!vk_device_has_layer(VK_DEVICE_LAYER))
			return err_set(err, ERR_DEVICE,
			    "VKCHAT_VALIDATE=1 but the Khronos validation "
			    "layer is not installed (apt-get install "
			    "vulkan-validationlayers)");
		ici.enabledLayerCount = 1;
		ici.ppEnabledLayerNames = layers;
		ici.enabledExtensionCount = ARRAY_LEN(exts);
		ici.ppEnabledExtensionNames = exts;
		dci.pNext = &vf;
		ici.pNext = &dci;
	}
	r = vkCreateInstance(&ici, NULL, out);
	/* a driver that could not be loaded for lack of memory is not "none" */
	if (r != VK_SUCCESS &&
	    vk_device_room(vk_device_room_driver(),
		"starting the Vulkan loader", err) != 0)
		return ERR_NOMEM;
	if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
		return err_set(err, ERR_DEVICE, VK_DEVICE_NO_DRIVER);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkCreateInstance", err);
	if (dev != NULL && dev->validate) {
		PFN_vkCreateDebugUtilsMessengerEXT create =
		    (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
			*out, "vkCreateDebugUtilsMessengerEXT");

		dci.pNext = NULL;
		if (create == NULL ||
		    create(*out, &dci, NULL, &dev->messenger) != VK_SUCCESS) {
			vkDestroyInstance(*out, NULL);
			*out = VK_NULL_HANDLE;
			return err_set(err, ERR_DEVICE,
			    "cannot create the validation messenger");
		}
	}
	return 0;
}

static const char *
vk_device_type_name(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
		return "discrete";
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
		return "integrated";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
		return "virtual";
	case VK_PHYSICAL_DEVICE_TYPE_CPU:
		return "cpu";
	default:
		return "other";
	}
}

/* Rank for the automatic choice: lower is preferred. */
static int
vk_device_rank(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
		return 0;
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
		return 1;
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
		return 2;
	case VK_PHYSICAL_DEVICE_TYPE_CPU:
		return 3;
	default:
		return 4;
	}
}

/* The first queue family with compute, or -1. */
static int
vk_device_compute_family(VkPhysicalDevice pd)
{
	VkQueueFamilyProperties *q;
	uint32_t n = 0, i;
	int found = -1;

	vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
	q = xcalloc(n + 1, sizeof *q);
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
	for (i = 0; i < n && found < 0; i++)
		if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
			found = (int)i;
	free(q);
	return found;
}

static void
vk_device_probe(VkPhysicalDevice pd, int index, struct vk_device_info *info)
{
	VkPhysicalDeviceProperties2 p2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
	};
	VkPhysicalDeviceVulkan11Properties p11 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES
	};
	VkPhysicalDeviceVulkan12Properties p12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES
	};
	VkPhysicalDeviceSubgroupSizeControlPropertiesEXT psc = {
		.sType =
		    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT
	};
	VkPhysicalDeviceFeatures2 f2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
	};
	VkPhysicalDeviceVulkan11Features f11 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
	};
	VkPhysicalDeviceVulkan12Features f12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
	};
	VkPhysicalDeviceMemoryProperties mem;
	VkFormatProperties fmt;
	VkExtensionProperties *exts;
	const VkPhysicalDeviceLimits *lim = &p2.properties.limits;
	uint32_t n_ext = 0, i;
	VkSubgroupFeatureFlags need_ops =
	    VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;

	memset(info, 0, sizeof *info);
	info->index = index;
	vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, NULL);
	exts = xcalloc(n_ext + 1, sizeof *exts);
	vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, exts);
	info->feat.size_control = vk_device_has_ext(
	    exts, n_ext, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
	info->feat.coopmat =
	    vk_device_has_ext(exts, n_ext, "VK_KHR_cooperative_matrix");
	free(exts);

	vkGetPhysicalDeviceProperties(pd, &p2.properties);
	info->api_version = p2.properties.apiVersion;
	if (VK_API_VERSION_MINOR(info->api_version) >= 2 ||
	    VK_API_VERSION_MAJOR(info->api_version) > 1) {
		p2.pNext = &p11;
		p11.pNext = &p12;
		if (info->feat.size_control)
			p12.pNext = &psc;
		vkGetPhysicalDeviceProperties2(pd, &p2);
		f2.pNext = &f11;
		f11.pNext = &f12;
		vkGetPhysicalDeviceFeatures2(pd, &f2);
	} else {
		info->unusable = "Vulkan 1.2 is required";
	}
	snprintf(info->name, sizeof info->name, "%s", p2.properties.deviceName);
	info->vk_type = p2.properties.deviceType;
	info->type = vk_device_type_name(info->vk_type);
	info->vendor_id = p2.properties.vendorID;
	info->device_id = p2.properties.deviceID;
	info->driver_version = p2.properties.driverVersion;
	snprintf(
	    info->driver_name, sizeof info->driver_name, "%s", p12.driverName);
	snprintf(
	    info->driver_info, sizeof info->driver_info, "%s", p12.driverInfo);
	info->max_storage_range = lim->maxStorageBufferRange;
	info->storage_align = lim->minStorageBufferOffsetAlignment;
	info->texel_align = lim->minTexelBufferOffsetAlignment;
	info->max_texels = lim->maxTexelBufferElements;
	vkGetPhysicalDeviceFormatProperties(
	    pd, VK_FORMAT_R32G32B32A32_UINT, &fmt);
	info->texel_u128 = (fmt.bufferFeatures &
			       VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT) != 0;
	info->max_shared = lim->maxComputeSharedMemorySize;
	info->max_invocations = lim->maxComputeWorkGroupInvocations;
	for (i = 0; i < 3; i++)
		info->max_groups[i] = lim->maxComputeWorkGroupCount[i];
	info->max_push = lim->maxPushConstantsSize;
	info->max_alloc = p11.maxMemoryAllocationSize;
	info->subgroup_size = p11.subgroupSize;
	info->subgroup_min = info->subgroup_max = p11.subgroupSize;
	if (info->feat.size_control && psc.minSubgroupSize > 0) {
		info->subgroup_min = psc.minSubgroupSize;
		info->subgroup_max = psc.maxSubgroupSize;
	}
	vkGetPhysicalDeviceMemoryProperties(pd, &mem);
	for (i = 0; i < mem.memoryHeapCount; i++)
		if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
			info->local_bytes += mem.memoryHeaps[i].size;

	info->feat.storage16 = f11.storageBuffer16BitAccess;
	info->feat.storage8 = f12.storageBuffer8BitAccess;
	info->feat.float16 = f12.shaderFloat16;
	info->feat.int8 = f12.shaderInt8;
	info->feat.int16 = f2.features.shaderInt16;
	info->feat.subgroup_arith =
	    (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
	    (p11.subgroupSupportedOperations & need_ops) == need_ops;
	info->feat.subgroup_shuffle =
	    (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
	    (p11.subgroupSupportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);

	if (info->unusable != NULL)
		return;
	if (vk_device_compute_family(pd) < 0)
		info->unusable = "no compute queue";
	else if (!info->feat.storage16)
		info->unusable = "no 16-bit storage buffer access";
	else if (!info->feat.subgroup_arith)
		info->unusable = "no subgroup arithmetic in compute shaders";
	else if (info->subgroup_size < 4)
		info->unusable = "subgroup size below 4";
}

/* Probe every device of INSTANCE; mark the automatic choice. */
static int
vk_device_probe_all(VkInstance instance, VkPhysicalDevice **pds,
    struct vk_device_info **infos, int *n, struct err *err)
{
	uint32_t count = 0, i;
	int best = -1;
	VkResult r;

	r = vkEnumeratePhysicalDevices(instance, &count, NULL);
	if ((r != VK_SUCCESS || count == 0) &&
	    vk_device_room(
		vk_device_room_driver(), "loading the Vulkan driver", err) != 0)
		return ERR_NOMEM;
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkEnumeratePhysicalDevices", err);
	if (count == 0)
		return err_set(err, ERR_DEVICE, VK_DEVICE_NO_DRIVER);
	*pds = xcalloc(count, sizeof **pds);
	r = vkEnumeratePhysicalDevices(instance, &count, *pds);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
		free(*pds);
		*pds = NULL;
		return vk_device_check(r, "vkEnumeratePhysicalDevices", err);
	}
	*infos = xcalloc(count, sizeof **infos);
	for (i = 0; i < count; i++) {
		vk_device_probe((*pds)[i], (int)i, &(*infos)[i]);
		if ((*infos)[i].unusable == NULL &&
		    (best < 0 ||
			vk_device_rank((*infos)[i].vk_type) <
			    vk_device_rank((*infos)[best].vk_type)))
			best = (int)i;
	}
	if (best >= 0)
		(*infos)[best].chosen = 1;
	*n = (int)count;
	return 0;
}

int
vk_device_list(struct vk_device_info **out, int *n, struct err *err)
{
	VkInstance instance;
	VkPhysicalDevice *pds = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = vk_device_instance(NULL, &instance, err);
	if (rc < 0)
		return rc;
	rc = vk_device_probe_all(instance, &pds, out, n, err);
	free(pds);
	vkDestroyInstance(instance, NULL);
	return rc;
}

/* Which device to open: INDEX, else VKCHAT_DEVICE, else the choice. */
static int
vk_device_pick(
    int index, const struct vk_device_info *infos, int n, struct err *err)
{
	const char *env = getenv("VKCHAT_DEVICE");
	int64_t v;
	int i;

	if (index < 0 && env != NULL && env[0] != '\0') {
		if (util_parse_i64(env, 0, INT32_MAX, &v) < 0)
			return err_set(err, ERR_USAGE,
			    "VKCHAT_DEVICE: '%s' is not a device index", env);
		index = (int)v;
	}
	if (index >= n)
		return err_set(err, ERR_USAGE,
		    "no Vulkan device %d (there %s %d: see 'vkchat devices')",
		    index, n == 1 ? "is" : "are", n);
	if (index >= 0) {
		if (infos[index].unusable != NULL)
			return err_set(err, ERR_DEVICE,
			    "device %d '%s' cannot run vkchat: %s", index,
			    infos[index].name, infos[index].unusable);
		return index;
	}
	for (i = 0; i < n; i++)
		if (infos[i].chosen)
			return i;
	return err_set(err, ERR_DEVICE,
	    "no usable Vulkan device: device 0 '%s': %s", infos[0].name,
	    infos[0].unusable);
}

/* INFO's kernel set: by its type, or as VKCHAT_KERNELS says. */
static int
vk_device_kernels(struct vk_device_info *info, struct err *err)
{
	const char *env = getenv("VKCHAT_KERNELS");

	info->cpu_kernels = info->vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU;
	if (env == NULL || env[0] == '\0' || strcmp(env, "auto") == 0)
		return 0;
	if (strcmp(env, "gpu") == 0 || strcmp(env, "cpu") == 0) {
		info->cpu_kernels = env[0] == 'c';
		return 0;
	}
	return err_set(err, ERR_USAGE,
	    "VKCHAT_KERNELS: '%s' is not auto, gpu or cpu", env);
}

/* Create the logical device, enabling the optional features offered. */
static int
vk_device_create(struct vk_device *dev, struct err *err)
{
	struct vk_device_features *f = &dev->info.feat;
	VkPhysicalDeviceVulkan12Features f12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
		.storageBuffer8BitAccess = (VkBool32)f->storage8,
		.shaderFloat16 = (VkBool32)f->float16,
		.shaderInt8 = (VkBool32)f->int8,
	};
	VkPhysicalDeviceVulkan11Features f11 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
		.pNext = &f12,
		.storageBuffer16BitAccess = VK_TRUE,
	};
	VkPhysicalDeviceFeatures2 f2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
		.pNext = &f11,
		.features.shaderInt16 = (VkBool32)f->int16,
	};
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = dev->queue_family,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.pNext = &f2,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
	};
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = dev->queue_family,
	};
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandBufferCount = 1,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
	};
	VkFenceCreateInfo fci = { .sType =
				      VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkResult r;

	if (vk_device_room(
		vk_device_room_driver(), "making the Vulkan device", err) != 0)
		return ERR_NOMEM;
	r = vkCreateDevice(dev->phys, &dci, NULL, &dev->dev);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkCreateDevice", err);
	vkGetDeviceQueue(dev->dev, dev->queue_family, 0, &dev->queue);
	r = vkCreateCommandPool(dev->dev, &pci, NULL, &dev->pool);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkCreateCommandPool", err);
	cai.commandPool = dev->pool;
	r = vkAllocateCommandBuffers(dev->dev, &cai, &dev->xfer_cb);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkAllocateCommandBuffers", err);
	r = vkCreateFence(dev->dev, &fci, NULL, &dev->xfer_fence);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkCreateFence", err);
	return 0;
}

/*
 * llvmpipe reads LP_NUM_THREADS when an instance enumerates its devices:
 * with 0 it keeps no thread pool and runs every workgroup of a dispatch
 * on the thread that submitted it; by default its pool has a thread per
 * processor (none with one processor).  Other drivers ignore it.  A value
 * in the environment before the first device is opened is the user's,
 * and kept.  Otherwise the variable is added once, set to the default,
 * and from then on only replaced: glibc's setenv never frees a value it
 * replaces, but adding a variable may move the environment while another
 * thread reads it (vk_device_threads_init, from main, does the adding
 * before any thread starts).
 */
static int vk_device_user_threads;
static char vk_device_pool_threads[24];

static void
vk_device_note_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	vk_device_user_threads = getenv("LP_NUM_THREADS") != NULL;
	snprintf(vk_device_pool_threads, sizeof vk_device_pool_threads, "%ld",
	    n > 1 ? n : 0);
	if (!vk_device_user_threads)
		setenv("LP_NUM_THREADS", vk_device_pool_threads, 1);
}

void
vk_device_threads_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, vk_device_note_threads);
}

/* Ask for one thread (CPU_INLINE) or the pool; 0 if the user chose. */
static int
vk_device_cpu_threads(int cpu_inline)
{
	vk_device_threads_init();
	if (vk_device_user_threads)
		return 0;
	setenv("LP_NUM_THREADS", cpu_inline ? "0" : vk_device_pool_threads, 1);
	return cpu_inline;
}

int
vk_device_new(
    int index, int cpu_inline, struct vk_device **out, struct err *err)
{
	struct vk_device *dev = xcalloc(1, sizeof *dev);
	struct vk_device_info *infos = NULL;
	VkPhysicalDevice *pds = NULL;
	const char *v = getenv("VKCHAT_VALIDATE");
	int n = 0, pick, rc;

	*out = NULL;
	dev->validate = v != NULL && strcmp(v, "1") == 0;
	cpu_inline = vk_device_cpu_threads(cpu_inline);
	rc = vk_device_instance(dev, &dev->instance, err);
	if (rc < 0)
		goto fail;
	rc = vk_device_probe_all(dev->instance, &pds, &infos, &n, err);
	if (rc < 0)
		goto fail;
	rc = pick = vk_device_pick(index, infos, n, err);
	if (rc < 0)
		goto fail;
	dev->phys = pds[pick];
	dev->info = infos[pick];
	dev->info.cpu_inline =
	    cpu_inline && dev->info.vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU;
	rc = vk_device_kernels(&dev->info, err);
	if (rc < 0)
		goto fail;
	dev->queue_family = (uint32_t)vk_device_compute_family(dev->phys);
	/* Enabled: the required and the offered optional ones. */
	dev->info.feat.size_control = 0;
	dev->info.feat.coopmat = 0;
	vkGetPhysicalDeviceMemoryProperties(dev->phys, &dev->mem);
	rc = vk_device_create(dev, err);
	if (rc < 0)
		goto fail;
	free(pds);
	free(infos);
	*out = dev;
	return 0;
fail:
	free(pds);
	free(infos);
	vk_device_free(dev);
	return rc;
}

void
vk_device_free(struct vk_device *dev)
{
	if (dev == NULL)
		return;
	if (dev->dev != VK_NULL_HANDLE) {
		vkDeviceWaitIdle(dev->dev);
		vk_buf_free(dev->staging);
		/* A cache is only a speed-up: a failed save is not an error. */
		if (dev->pcache_path != NULL)
			vk_pipe_cache_save(dev, NULL);
		if (dev->pcache != VK_NULL_HANDLE)
			vkDestroyPipelineCache(dev->dev, dev->pcache, NULL);
		if (dev->xfer_fence != VK_NULL_HANDLE)
			vkDestroyFence(dev->dev, dev->xfer_fence, NULL);
		if (dev->pool != VK_NULL_HANDLE)
			vkDestroyCommandPool(dev->dev, dev->pool, NULL);
		vkDestroyDevice(dev->dev, NULL);
	}
	if (dev->messenger != VK_NULL_HANDLE) {
		PFN_vkDestroyDebugUtilsMessengerEXT destroy =
		    (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
			dev->instance, "vkDestroyDebugUtilsMessengerEXT");

		if (destroy != NULL)
			destroy(dev->instance, dev->messenger, NULL);
	}
	if (dev->instance != VK_NULL_HANDLE)
		vkDestroyInstance(dev->instance, NULL);
	free(dev->pcache_path);
	free(dev);
}

unsigned
vk_device_messages(const struct vk_device *dev)
{
	return dev->n_msgs;
}

const char *
vk_device_message(const struct vk_device *dev, unsigned i)
{
	if (i >= dev->n_msgs || i >= VK_DEVICE_MSG_KEEP)
		return NULL;
	return dev->msgs[i];
}

const char *
vk_device_features_str(
    const struct vk_device_features *f, char *buf, size_t size)
{
	static const struct {
		size_t off;
		const char *name;
	} names[] = {
		{ offsetof(struct vk_device_features, subgroup_arith),
		    "subgroup-arith" },
		{ offsetof(struct vk_device_features, subgroup_shuffle),
		    "subgroup-shuffle" },
		{ offsetof(struct vk_device_features, storage16), "storage16" },
		{ offsetof(struct vk_device_features, storage8), "storage8" },
		{ offsetof(struct vk_device_features, float16), "float16" },
		{ offsetof(struct vk_device_features, int8), "int8" },
		{ offsetof(struct vk_device_features, int16), "int16" },
		{ offsetof(struct vk_device_features, size_control),
		    "subgroup-size-control" },
		{ offsetof(struct vk_device_features, coopmat),
		    "cooperative-matrix" },
	};
	size_t i, len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < ARRAY_LEN(names); i++) {
		const int *on =
		    (const int *)(const void *)((const char *)f + names[i].off);
		int w;

		if (!*on)
			continue;
		w = snprintf(buf + len, size - len, "%s%s", len > 0 ? " " : "",
		    names[i].name);
		if (w < 0 || (size_t)w >= size - len)
			break;
		len += (size_t)w;
	}
	return buf;
}

const char *
vk_device_driver_version(
    const struct vk_device_info *info, char *buf, size_t size)
{
	uint32_t v = info->driver_version;

	/* NVIDIA packs 10.8.8.6 bits; everyone else uses VK_MAKE_VERSION. */
	if (info->vendor_id == 0x10de)
		snprintf(buf, size, "%u.%u.%u", v >> 22, (v >> 14) & 0xff,
		    (v >> 6) & 0xff);
	else
		snprintf(buf, size, "%u.%u.%u", VK_API_VERSION_MAJOR(v),
		    VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
	return buf;
}

int
vk_device_submit(
    struct vk_device *dev, VkCommandBuffer cb, VkFence fence, struct err *err)
{
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &cb,
	};
	VkResult r;

	r = vkResetFences(dev->dev, 1, &fence);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkResetFences", err);
	r = vkQueueSubmit(dev->queue, 1, &si, fence);
	if (r != VK_SUCCESS)
		return vk_device_check(r, "vkQueueSubmit", err);
	r = vkWaitForFences(dev->dev, 1, &fence, VK_TRUE, VK_DEVICE_WAIT_NS);
	if (r == VK_TIMEOUT)
		return err_set(err, ERR_DEVICE,
		    "the Vulkan device did not finish its work within "
		    "five minutes");
	return vk_device_check(r, "vkWaitForFences", err);
}
