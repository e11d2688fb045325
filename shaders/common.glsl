/*
 * common: extensions and helpers every kernel uses.
 *
 * Weights and the f16 KV cache are read and written as 16-bit words
 * (storageBuffer16BitAccess is required of the device, see vk-device.h);
 * values are converted to f32 right away: all arithmetic is f32.
 * Reductions use subgroup operations (basic + arithmetic, required).
 */
#extension GL_EXT_shader_16bit_storage : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require

/*
 * The linear index of this workgroup when a large 1-D dispatch was
 * folded into x * y workgroups (kern_groups() in src/kern.c): the
 * shader must ignore indices past its own count.
 */
uint
common_group()
{
	return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

/*
 * An f32 as the 16-bit pattern of the nearest f16 (store it with
 * uint16_t(): 16-bit variables would need shaderInt16).
 */
uint
common_f16(float v)
{
	return packHalf2x16(vec2(v, 0.0)) & 0xffffu;
}

/* An f16 bit pattern (a 16-bit word read with uint()) as f32. */
float
common_f32(uint h)
{
	return unpackHalf2x16(h).x;
}
