/*
 * reduce: sums and maxima over a workgroup.  The includer defines the
 * specialization constant NSUB, at least the number of subgroups in its
 * workgroup (workgroup size / minimum subgroup size).  With NSUB 1 (a
 * workgroup of one subgroup: lavapipe, and the host's usual choice) the
 * call is the subgroup operation alone, chosen by the specialization
 * constant at the call: the shared-memory path must not even be
 * reachable through a run-time test, or llvmpipe compiles the whole
 * shader into code twice as slow.  Every invocation of the workgroup
 * must call these in uniform control flow.
 */
shared float reduce_buf[NSUB];

/* The sum of V over a workgroup of several subgroups. */
float
reduce_sum_groups(float v)
{
	barrier();
	if (subgroupElect())
		reduce_buf[gl_SubgroupID] = v;
	barrier();
	v = 0.0;
	for (uint i = 0; i < gl_NumSubgroups; i++)
		v += reduce_buf[i];
	return v;
}

/* The maximum of V over a workgroup of several subgroups. */
float
reduce_max_groups(float v)
{
	barrier();
	if (subgroupElect())
		reduce_buf[gl_SubgroupID] = v;
	barrier();
	v = reduce_buf[0];
	for (uint i = 1; i < gl_NumSubgroups; i++)
		v = max(v, reduce_buf[i]);
	return v;
}

float
reduce_sum(float v)
{
	return NSUB == 1 ? subgroupAdd(v) : reduce_sum_groups(subgroupAdd(v));
}

float
reduce_max(float v)
{
	return NSUB == 1 ? subgroupMax(v) : reduce_max_groups(subgroupMax(v));
}
