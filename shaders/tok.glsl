/*
 * tok: the per-token record of the step buffer, written by the host
 * before each replay (struct kern_tok in src/kern.h, 16 bytes).
 *   token    token id (get_rows)
 *   pos      position in its sequence (rope, kv_store)
 *   kv_base  first KV-cache slot of its sequence (kv_store, attention)
 *   n_kv     cached positions it attends to, pos + 1 (attention)
 */
struct tok_info {
	int token;
	int pos;
	int kv_base;
	int n_kv;
};
