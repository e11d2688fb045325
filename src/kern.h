/*
 * kern: recording the compute kernels (the shaders/ directory) into a command
 * graph.  Each kern_OP takes views of buffers and shape parameters,
 * checks them, picks the pipeline (made on first use, specialized for the
 * device and the shape, kept by the struct kern) and records the
 * dispatches.  The model graph calls these once per recording; nothing
 * here runs per token.
 *
 * Operands: f32 activations are struct kern_mat (a view, an element
 * offset and a row stride, so one buffer can hold several tensors, e.g.
 * Q, K and V side by side); weights are struct kern_weight (row chunks
 * that each fit one storage-buffer binding); per-token values (token id,
 * position, KV slot base, KV length) come from a step buffer of
 * struct kern_tok that the host rewrites before each replay.
 *
 * Weight types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K,
 * Q6_K (ggml block
 * layouts); rows of a multiple of 32 values (256 for the K-quants).  Inputs and outputs of one dispatch must not
 * overlap unless the kernel says in place is allowed.
 */
#ifndef VKCHAT_KERN_H
#define VKCHAT_KERN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vk-buf.h"
#include "vk-device.h"
#include "vk-graph.h"

/* Kernels of one device (heap object). */
struct kern;

/* One token's step record, 16 bytes (shaders/tok.glsl). */
struct kern_tok {
	int32_t token;	 /* token id (get_rows) */
	int32_t pos;	 /* position in its sequence */
	int32_t kv_base; /* first KV-cache slot of its sequence */
	int32_t n_kv;	 /* cached positions it attends to: pos + 1 */
};

/* An f32 matrix operand: row t starts at element off + t * stride. */
struct kern_mat {
	struct vk_view view;
	uint32_t off;
	uint32_t stride;
};

/* Rows [row0, row0 + rows) of a weight, in one binding. */
struct kern_weight_chunk {
	struct vk_view view;
	uint32_t row0, rows;
};

/*
 * A weight matrix of ROWS rows of COLS values of ggml TYPE, in the
 * kernels' layout (shaders/weights.glsl: F32, F16, BF16 as in GGUF;
 * Q8_0 and Q4_0 with each chunk's f16 scales moved behind its quants, so
 * the quants can be read 16 bytes at a time; Q4_1, Q5_0, Q5_1 and the
 * K-quants split into
 * regions of nibbles, headers and high bits).  Made by
 * kern_weight_upload, which owns the buffers.
 */
struct kern_weight {
	uint32_t type;
	uint32_t rows, cols;
	struct kern_weight_chunk *chunks; /* owned */
	size_t n_chunks;
	struct vk_buf **bufs; /* owned, n_bufs of them */
	size_t n_bufs;
};

/*
 * Attention shape: query heads, KV heads (dividing n_head), head size;
 * the score scale (0: 1 / sqrt(head_dim)) and a sliding window (0: none;
 * else a token at position pos attends to positions pos - window + 1 to
 * pos only, gemma3's local layers).
 */
struct kern_attn {
	uint32_t n_head, n_head_kv, head_dim;
	float scale;
	uint32_t window;
};

/* Rotary embedding parameters (ggml "normal" mode). */
struct kern_rope {
	uint32_t n_heads, head_dim, n_rot;
	float freq_base, freq_scale;
	const struct vk_view *freq_factors; /* n_rot/2 f32, or NULL */
};

/* Kernels for DEV, which must outlive them. */
int kern_new(struct vk_device *dev, struct kern **out, struct err *err);

/* Free K and its pipelines.  NULL is ignored. */
void kern_free(struct kern *k);

/*
 * Bind at most BYTES per weight chunk from now on (0: the device limit).
 * For tests of split weights.
 */
void kern_limit_view(struct kern *k, uint64_t bytes);

/*
 * Choose the matrix-vector strategy: ON, the CPU one (the default on CPU
 * devices): each workgroup keeps its invocations' slices of x in
 * registers for many rows, and products of more than 8 columns run the
 * same kernel over groups of 8 columns instead of the tiled kernel;
 * off, the GPU one: a workgroup per 2 rows, x read per row, the tiled
 * kernel above 8 columns.  Attention follows the same switch: on, each
 * lane takes its own cached positions (attention_lanes); off, the lanes
 * split a head.  Both are exact to the same bound; tests run both.
 */
void kern_mv_lane_rows(struct kern *k, int on);

/*
 * Whether mul_mv reads weights through uniform texel buffers (ON) or
 * storage buffers, and attention the KV caches likewise; returns the
 * setting in force.  On by default on CPU devices that have RGBA32UI
 * texel buffers, where weights get texel views at upload
 * (kern_texel_view; llvmpipe streams them 2.3 times faster); elsewhere
 * it stays off.  Both are exact alike; tests run both.
 */
int kern_mv_texel(struct kern *k, int on);

/*
 * Give V a uniform texel view of its range (V->texel, destroyed with
 * vk_buf_texel_free) where the kernels read texel buffers: on CPU
 * devices that have them, for a range of whole 16-byte texels within the
 * device's texel count.  Otherwise V->texel is VK_NULL_HANDLE and the
 * kernels bind V as a storage buffer.  Weights get theirs at upload;
 * attention reads the KV caches through theirs (their owner calls this)
 * while kern_mv_texel is on.  Errors are the driver's.
 */
int kern_texel_view(const struct kern *k, struct vk_view *v, struct err *err);

/* Whether kernels handle ggml weight type TYPE. */
int kern_type_supported(uint32_t type);

/*
 * Upload ROWS x COLS weights of TYPE from DATA (GGUF layout) into
 * device-local buffers split into chunks that fit a binding, repacked
 * into the kernels' layout.  NAME names
 * the tensor in errors: ERR_UNSUPPORTED for a type or shape the kernels
 * do not handle, ERR_NOMEM when memory runs out.  Release W with
 * kern_weight_release.
 */
int kern_weight_upload(struct kern *k, uint32_t type, uint32_t rows,
    uint32_t cols, const void *data, const char *name, struct kern_weight *w,
    struct err *err);

/* Free what kern_weight_upload made; W is zeroed.  NULL is ignored. */
void kern_weight_release(struct kern_weight *w);

/*
 * y[t] = W x[t] for t < N (y[t] += W x[t] when ACCUMULATE): the
 * matrix-vector kernel for N <= 8 (each weight read once for all
 * columns), above that the tiled matrix-matrix kernel (GPU strategy) or
 * the matrix-vector kernel over groups of 8 columns (CPU strategy, see
 * kern_mv_lane_rows).  x's offset and stride
 * must be multiples of 4 (ERR_UNSUPPORTED otherwise).
 */
int kern_mul_mat(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct kern_mat x, struct kern_mat y,
    uint32_t n, int accumulate, struct err *err);

/* What runs around a fused product (kern_mul_mat_fused). */
enum kern_epi {
	KERN_EPI_STORE, /* y = W x' (+ y when accumulating) */
	KERN_EPI_ROPE_KV, /* rows [Q | K | V]: rope Q, K; Q to y, K, V to caches */
	KERN_EPI_SILU,	  /* rows [gate | up]: y = silu(gate) * up, rows/2 */
	KERN_EPI_GELU,	  /* as KERN_EPI_SILU with GELU (tanh) for silu */
};

/*
 * The fused steps: NORM (n_norm f32 weights, n_norm a multiple of 4;
 * NULL: none) normalizes x
 * first (x' = x / rms(x) * norm over its first n_norm values, eps
 * added to the mean square); EPI picks the epilogue.  For
 * KERN_EPI_ROPE_KV: TOK is the step buffer (positions, KV slots), KC and
 * VC the f16 caches of rows of KV_DIM, ROPE the rotation (its n_heads is
 * not used: the Q heads are the first Q_DIM rows, the K heads the next
 * KV_DIM, the V rows the last KV_DIM).
 */
struct kern_fuse {
	const struct vk_view *norm;
	uint32_t n_norm;
	float eps;
	enum kern_epi epi;
	struct vk_view tok, kc, vc;
	const struct kern_rope *rope;
	uint32_t q_dim, kv_dim;
};

/*
 * Whether kern_mul_mat_fused runs W over N columns: the matrix-vector
 * kernel takes them (N <= 8, or any N with the CPU strategy) and W is
 * one chunk.  Otherwise the caller records the steps one by one.
 */
int kern_fusable(const struct kern *k, const struct kern_weight *w, uint32_t n);

/*
 * kern_mul_mat with the steps of F fused into one dispatch (see
 * struct kern_fuse): y[t] = W x'[t] (+= when ACCUMULATE, KERN_EPI_STORE
 * only), or the epilogue's outputs.  ERR_UNSUPPORTED when
 * kern_fusable is false or the shapes do not fit the epilogue (odd head
 * size, Q|K|V or gate|up rows that do not add up).
 */
int kern_mul_mat_fused(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct kern_mat x, struct kern_mat y,
    uint32_t n, int accumulate, const struct kern_fuse *f, struct err *err);

/* y[t] = row tok[t].token of W (f32) for t < N: embedding lookup. */
int kern_get_rows(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct vk_view tok, struct kern_mat y,
    uint32_t n, struct err *err);

/* kern_get_rows with the rows multiplied by SCALE (gemma3's embeddings). */
int kern_get_rows_scaled(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct vk_view tok, struct kern_mat y,
    uint32_t n, float scale, struct err *err);

/*
 * gpt2's learned positions: y[t] += row tok[t].pos of W (f32) for t < N.
 */
int kern_get_rows_pos_add(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct vk_view tok, struct kern_mat y,
    uint32_t n, struct err *err);

/*
 * y[t] = x[t] / rms(x[t]) * w for N rows of COLS (W NULL: no weight
 * multiply; W has COLS f32).  In place allowed.
 */
int kern_rmsnorm(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, struct kern_mat y, uint32_t cols, uint32_t n,
    float eps, struct err *err);

/*
 * y[t] += x[t] / rms(x[t]) * w for N rows of COLS (W NULL: no weight
 * multiply): a sub-block's output normed into the residual stream
 * (gemma3's post-norms).  X and Y must not overlap.
 */
int kern_rmsnorm_add(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, struct kern_mat y, uint32_t cols, uint32_t n,
    float eps, struct err *err);

/*
 * kern_rmsnorm per head: the first HEADS * HEAD_DIM values of x[t], t < N,
 * are HEADS heads of HEAD_DIM values, each normalized on its own and
 * multiplied by W (HEAD_DIM f32, shared by the heads; NULL: none) into the
 * same place of y (qwen3's Q and K norms).  In place allowed.
 */
int kern_rmsnorm_heads(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, struct kern_mat y, uint32_t head_dim,
    uint32_t heads, uint32_t n, float eps, struct err *err);

/*
 * LayerNorm: y[t] = (x[t] - mean(x[t])) / sqrt(var(x[t]) + eps) * w + b
 * for N rows of COLS (W, B: COLS f32 each, or NULL: none), ggml_norm
 * then the weight and bias (gpt2).  In place allowed.
 */
int kern_layernorm(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, const struct vk_view *b, struct kern_mat y,
    uint32_t cols, uint32_t n, float eps, struct err *err);

/* y = a + b over N rows of COLS.  In place allowed. */
int kern_add(struct kern *k, struct vk_graph *g, struct kern_mat a,
    struct kern_mat b, struct kern_mat y, uint32_t cols, uint32_t n,
    struct err *err);

/* y = silu(gate) * up over N rows of COLS.  In place allowed. */
int kern_silu_mul(struct kern *k, struct vk_graph *g, struct kern_mat gate,
    struct kern_mat up, struct kern_mat y, uint32_t cols, uint32_t n,
    struct err *err);

/*
 * y = gelu(gate) * up over N rows of COLS, GELU's tanh approximation
 * (ggml_gelu; gemma3's feed-forward).  In place allowed.
 */
int kern_gelu_mul(struct kern *k, struct vk_graph *g, struct kern_mat gate,
    struct kern_mat up, struct kern_mat y, uint32_t cols, uint32_t n,
    struct err *err);

/*
 * y = gelu(x) over N rows of COLS, GELU's tanh approximation with no
 * gate (gpt2's MLP).  In place allowed.
 */
int kern_gelu(struct kern *k, struct vk_graph *g, struct kern_mat x,
    struct kern_mat y, uint32_t cols, uint32_t n, struct err *err);

/* Rotate the heads of x[t] for t < N in place, positions from TOK. */
int kern_rope(struct kern *k, struct vk_graph *g, struct vk_view tok,
    struct kern_mat x, const struct kern_rope *r, uint32_t n, struct err *err);

/*
 * Store kx[t], vx[t] (KV_DIM f32 each) as f16 into the caches KC, VC at
 * slot tok[t].kv_base + tok[t].pos, for t < N.
 */
int kern_kv_store(struct kern *k, struct vk_graph *g, struct vk_view tok,
    struct kern_mat kx, struct kern_mat vx, struct vk_view kc,
    struct vk_view vc, uint32_t kv_dim, uint32_t n, struct err *err);

/*
 * out[t] = causal attention of q[t]'s heads over the cached positions
 * 0..tok[t].n_kv-1 of its sequence (slots from tok[t].kv_base) in the f16
 * caches KC, VC, for t < N; with A's window only the last window of
 * them, with A's scale (or 1 / sqrt(head_dim)).
 */
int kern_attention(struct kern *k, struct vk_graph *g, struct vk_view tok,
    struct kern_mat q, struct vk_view kc, struct vk_view vc,
    struct kern_mat out, const struct kern_attn *a, uint32_t n,
    struct err *err);

/*
 * out[out_off + t] = argmax of x[t] (COLS values; u32 results) for t < N.
 */
int kern_argmax(struct kern *k, struct vk_graph *g, struct kern_mat x,
    uint32_t cols, struct vk_view out, uint32_t out_off, uint32_t n,
    struct err *err);

/*
 * Measure the device's streaming read bandwidth over a buffer of BYTES
 * (split into bindings as needed), median of REPS timed replays after a
 * warm-up; *gbps in 1e9 bytes per second.
 */
int kern_bench_read(
    struct kern *k, uint64_t bytes, int reps, double *gbps, struct err *err);

#endif
