/*
 * reduce: sums and maxima over a workgroup.  The includer defines the
 * specialization constant NSUB, at least the number of subgroups in its
 * workgroup (workgroup size / minimum subgroup size).  When the
 * workgroup is one subgroup (lavapipe, and the host's usual choice) no
 * barrier is executed: llvmpipe pays dearly for each one.  Every
 * invocation of the workgroup must call these in uniform control flow.
 */
shared float reduce_buf[NSUB];

float
reduce_sum(float v)
{
	v = subgroupAdd(v);
	if (gl_NumSubgroups == 1)
		return v;
	barrier();
	if (subgroupElect())
		reduce_buf[gl_SubgroupID] = v;
	barrier();
	v = 0.0;
	for (uint i = 0; i < gl_NumSubgroups; i++)
		v += reduce_buf[i];
	return v;
}

float
reduce_max(float v)
{
	v = subgroupMax(v);
	if (gl_NumSubgroups == 1)
		return v;
	barrier();
	if (subgroupElect())
		reduce_buf[gl_SubgroupID] = v;
	barrier();
	v = reduce_buf[0];
	for (uint i = 1; i < gl_NumSubgroups; i++)
		v = max(v, reduce_buf[i]);
	return v;
}
