#version 450
/*
 * bw_read: stream n vec4 words of a buffer and sum them, for measuring
 * the device's read bandwidth (vkchat bench).  The sum is only compared
 * with a value it never takes, so the loads cannot be dropped; out[0] is
 * written in that (never) case.
 *
 * Dispatch: any number of workgroups; each invocation reads
 * data[gid + k * total invocations].  Bindings: 0 data (vec4, read),
 * 1 out (f32, write).  Push: n, magic.  Specialization: 0 workgroup size.
 * Reference: none (a measurement); test: kern_bench_read.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer D { vec4 data[]; };
layout(binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
	uint n;
	float magic;
} p;

void
main()
{
	const uint total = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	vec4 acc = vec4(0.0);

	for (uint i = gl_GlobalInvocationID.x; i < p.n; i += total)
		acc += data[i];
	if (dot(acc, vec4(1.0)) == p.magic)
		o[0] = 1.0;
}
