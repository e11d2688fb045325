#version 450
/*
 * add: y[t][i] = a[t][i] + b[t][i] (the residual connection).  In place
 * (y = a or y = b) is allowed.
 *
 * Dispatch: ceil(n / workgroup size) x rows.  Bindings: 0 a, 1 b (f32,
 * read), 2 y (f32, write); element (t, i) of a is a[a_off + t*a_stride + i]
 * and likewise for b and y.  Push: n, a_off, a_stride, b_off, b_stride,
 * y_off, y_stride.  Specialization: 0 workgroup size.
 * Reference: kern_ref_add() in tests/test-kern.c; test: kern_add.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
	uint n;
	uint a_off;
	uint a_stride;
	uint b_off;
	uint b_stride;
	uint y_off;
	uint y_stride;
} p;

void
main()
{
	const uint t = gl_WorkGroupID.y;
	const uint i = gl_GlobalInvocationID.x;

	if (i < p.n)
		y[p.y_off + t * p.y_stride + i] =
		    a[p.a_off + t * p.a_stride + i] +
		    b[p.b_off + t * p.b_stride + i];
}
