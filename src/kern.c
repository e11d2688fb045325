/*
 * kern: host side of the kernels.  See kern.h.
 *
 * Pipelines are made on first use and kept in a small list keyed by the
 * shader and its specialization constants (a handful per model: each op,
 * and mul_mv per weight type, column count, row length and epilogue),
 * through the device's pipeline cache file, which kern_new opens.
 *
 * Workgroup sizes: reductions (mul_mv, rmsnorm, attention, argmax) use
 * one subgroup per workgroup where the subgroup has at most 64
 * invocations (8 on lavapipe, 32 on NVIDIA), so they need no barrier;
 * NSUB, the most subgroups a workgroup may hold, sizes their shared
 * scratch for devices that pick smaller subgroups.  Element-wise kernels
 * use 64 invocations; mul_mm 32 x 32 tiles of 4 x 4 per invocation.
 *
 * Matrix-vector strategies (kern_mv_lane_rows): on GPUs a workgroup per
 * 2 rows, the tiled kernel above 8 columns; on CPU devices (llvmpipe,
 * where every buffer load is a loop over the SIMD lanes, see
 * shaders/mul_mv.comp) workgroups of 2 or 8 subgroups' worth of rows
 * with x cached in registers, row slots for short rows, and the same
 * kernel over groups of up to KERN_MV_CPU_COLS columns for prefill
 * (llvmpipe's first-use compile time grows with the columns cached).
 * There, too, each weight chunk gets a uniform texel buffer view at
 * upload, and mul_mv is the mul_mv_tex variant reading it: llvmpipe
 * compiles texel fetches to straight-line gathers (kern_mv_texel).
 * Attention there is attention_lanes: a cached position per lane, whole
 * rows loaded as 16-byte words, the lanes merged once at the end.
 */
#include "kern.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"
#include "util.h"
#include "vk-pipe.h"

#define KERN_MV_MAX_COLS 8
#define KERN_MV_ROWS 2
#define KERN_MV_CPU_ROWS 64
#define KERN_MV_CPU_COLS 4
#define KERN_MV_MAX_CACHE 64
#define KERN_ATTN_HPW_VALUES 192
#define KERN_EW_WG 64
#define KERN_MM_BM 32
#define KERN_MM_BN 32
#define KERN_MM_TM 4
#define KERN_MM_TN 4
#define KERN_MAX_HEAD_DIM 256
#define KERN_ATTN_CHUNK 4

enum kern_op {
	KERN_MUL_MV,
	KERN_MUL_MV_KV,
	KERN_MUL_MV_TEX,
	KERN_MUL_MV_KV_TEX,
	KERN_MUL_MM,
	KERN_GET_ROWS,
	KERN_RMSNORM,
	KERN_ADD,
	KERN_SILU_MUL,
	KERN_ROPE,
	KERN_KV_STORE,
	KERN_ATTENTION,
	KERN_ATTENTION_LANES,
	KERN_ATTENTION_LANES_TEX,
	KERN_ARGMAX,
	KERN_BW_READ,
	KERN_N_OPS,
};

static const struct kern_def {
	const char *shader;
	uint32_t n_bind;
	uint32_t write_mask;
	uint32_t push_size;
	uint32_t texel_mask;
} kern_defs[KERN_N_OPS] = {
	[KERN_MUL_MV] = { "mul_mv", 8, 1u << 2, 17 * 4, 0 },
	[KERN_MUL_MV_KV] = { "mul_mv", 8, (1u << 2) | (1u << 5) | (1u << 6),
	    17 * 4, 0 },
	[KERN_MUL_MV_TEX] = { "mul_mv_tex", 8, 1u << 2, 17 * 4, 1u },
	[KERN_MUL_MV_KV_TEX] = { "mul_mv_tex", 8,
	    (1u << 2) | (1u << 5) | (1u << 6), 17 * 4, 1u },
	[KERN_MUL_MM] = { "mul_mm", 3, 1u << 2, 8 * 4 },
	[KERN_GET_ROWS] = { "get_rows", 3, 1u << 2, 6 * 4 },
	[KERN_RMSNORM] = { "rmsnorm", 4, 1u << 2, 11 * 4 },
	[KERN_ADD] = { "add", 3, 1u << 2, 7 * 4 },
	[KERN_SILU_MUL] = { "silu_mul", 3, 1u << 2, 7 * 4 },
	[KERN_ROPE] = { "rope", 3, 1u << 1, 8 * 4 },
	[KERN_KV_STORE] = { "kv_store", 5, (1u << 3) | (1u << 4), 5 * 4 },
	[KERN_ATTENTION] = { "attention", 5, 1u << 4, 8 * 4 },
	[KERN_ATTENTION_LANES] = { "attention_lanes", 5, 1u << 4, 8 * 4 },
	[KERN_ATTENTION_LANES_TEX] = { "attention_lanes_tex", 5, 1u << 4, 8 * 4,
	    (1u << 2) | (1u << 3) },
	[KERN_ARGMAX] = { "argmax", 2, 1u << 1, 5 * 4 },
	[KERN_BW_READ] = { "bw_read", 2, 1u << 1, 2 * 4 },
};

struct kern {
	struct vk_device *dev;
	struct vk_pipe **pipes;
	size_t n_pipes;
	uint64_t max_view; /* bytes per weight chunk */
	uint32_t wg;	   /* reduction workgroup size */
	uint32_t nsub;	   /* subgroups per such workgroup, at most */
	int lane_rows;	   /* mul_mv: one row per invocation (CPU devices) */
	int texel_views;   /* weight chunks get texel views (CPU devices) */
	int texel;	   /* mul_mv reads them (kern_mv_texel) */
};

int
kern_new(struct vk_device *dev, struct kern **out, struct err *err)
{
	struct kern *k = xcalloc(1, sizeof *k);
	const struct vk_device_info *info = &dev->info;
	int rc;

	*out = NULL;
	k->dev = dev;
	k->max_view = vk_buf_max_view(dev);
	k->wg = info->subgroup_size < 64 ? info->subgroup_size : 64;
	k->nsub = (k->wg + info->subgroup_min - 1) / info->subgroup_min;
	k->lane_rows = info->cpu_kernels;
	k->texel_views = k->texel = k->lane_rows && info->texel_u128;
	if (info->max_invocations < KERN_EW_WG ||
	    info->max_shared < (KERN_MM_BM + KERN_MM_BN) * 33 * 4) {
		free(k);
		return err_set(err, ERR_UNSUPPORTED,
		    "device '%s' allows too small workgroups (%u invocations, "
		    "%u bytes of shared memory)",
		    info->name, info->max_invocations, info->max_shared);
	}
	if (dev->pcache == VK_NULL_HANDLE) {
		rc = vk_pipe_cache_open(dev, NULL, err);
		if (rc < 0) {
			free(k);
			return rc;
		}
	}
	*out = k;
	return 0;
}

void
kern_free(struct kern *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n_pipes; i++)
		vk_pipe_free(k->pipes[i]);
	free(k->pipes);
	free(k);
}

void
kern_limit_view(struct kern *k, uint64_t bytes)
{
	uint64_t dev_max = vk_buf_max_view(k->dev);

	k->max_view = bytes == 0 || bytes > dev_max ? dev_max : bytes;
}

void
kern_mv_lane_rows(struct kern *k, int on)
{
	k->lane_rows = on != 0;
}

int
kern_mv_texel(struct kern *k, int on)
{
	k->texel = on != 0 && k->texel_views;
	return k->texel;
}

int
kern_texel_view(const struct kern *k, struct vk_view *v, struct err *err)
{
	v->texel = VK_NULL_HANDLE;
	if (!k->texel_views || v->size % 16 != 0 ||
	    v->size / 16 > k->dev->info.max_texels)
		return 0;
	return vk_buf_texel(v, &v->texel, err);
}

/* The pipeline for OP with SPEC constants, made on first use. */
static int
kern_pipe(struct kern *k, enum kern_op op, const uint32_t *spec,
    uint32_t n_spec, struct vk_pipe **out, struct err *err)
{
	const struct kern_def *def = &kern_defs[op];
	struct vk_pipe_desc d = {
		.shader = def->shader,
		.n_bind = def->n_bind,
		.write_mask = def->write_mask,
		.texel_mask = def->texel_mask,
		.push_size = def->push_size,
		.n_spec = n_spec,
	};
	size_t i;
	int rc;

	memcpy(d.spec, spec, n_spec * sizeof *spec);
	for (i = 0; i < k->n_pipes; i++) {
		const struct vk_pipe_desc *e = &k->pipes[i]->desc;

		if (e->shader == d.shader && e->n_spec == n_spec &&
		    memcmp(e->spec, d.spec, n_spec * sizeof *spec) == 0) {
			*out = k->pipes[i];
			return 0;
		}
	}
	k->pipes = xreallocarray(k->pipes, k->n_pipes + 1, sizeof *k->pipes);
	rc = vk_pipe_new(k->dev, &d, &k->pipes[k->n_pipes], err);
	if (rc < 0)
		return rc;
	*out = k->pipes[k->n_pipes++];
	return 0;
}

/* Fold a 1-D count of workgroups into x * y within the device limits. */
static void
kern_groups(const struct kern *k, uint32_t total, uint32_t *gx, uint32_t *gy)
{
	uint32_t max_x = k->dev->info.max_groups[0];

	*gy = (total + max_x - 1) / max_x;
	*gx = (total + *gy - 1) / *gy;
}

static uint32_t
kern_div_up(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

/* Check that matrix M (N rows of COLS f32) lies inside its view. */
static int
kern_mat_check(const char *op, const char *what, const struct kern_mat *m,
    uint32_t n, uint32_t cols, struct err *err)
{
	uint64_t end;

	if (m->view.buf == NULL)
		return err_set(
		    err, ERR_USAGE, "%s: no buffer for %s", op, what);
	if (n == 0 || cols == 0)
		return err_set(
		    err, ERR_RANGE, "%s: %s of %u x %u", op, what, n, cols);
	end = ((uint64_t)m->off + (uint64_t)(n - 1) * m->stride + cols) * 4;
	if (end > m->view.size)
		return err_set(err, ERR_RANGE,
		    "%s: %s (%u rows of %u at offset %u, stride %u) needs "
		    "%llu bytes, view of '%s' has %llu",
		    op, what, n, cols, m->off, m->stride,
		    (unsigned long long)end, m->view.buf->label,
		    (unsigned long long)m->view.size);
	return 0;
}

/* Check that TOK holds N step records. */
static int
kern_tok_check(const char *op, struct vk_view tok, uint32_t n, struct err *err)
{
	if (tok.buf == NULL || tok.size < (uint64_t)n * sizeof(struct kern_tok))
		return err_set(err, ERR_RANGE,
		    "%s: step buffer too small for %u tokens", op, n);
	return 0;
}

/*
 * Bytes per block of TYPE (32 values, or a 256-value super-block for the
 * K-quants), 0 when unsupported.
 */
static uint32_t
kern_block_bytes(uint32_t type)
{
	switch (type) {
	case GGML_TYPE_F32:
		return 128;
	case GGML_TYPE_F16:
	case GGML_TYPE_BF16:
		return 64;
	case GGML_TYPE_Q8_0:
		return 34;
	case GGML_TYPE_Q4_0:
		return 18;
	case GGML_TYPE_Q4_1:
		return 20;
	case GGML_TYPE_Q5_0:
		return 22;
	case GGML_TYPE_Q5_1:
		return 24;
	case GGML_TYPE_Q4_K:
		return 144;
	case GGML_TYPE_Q5_K:
		return 176;
	case GGML_TYPE_Q6_K:
		return 210;
	default:
		return 0;
	}
}

/* Values per block of TYPE: 256 for the K-quants, else 32. */
static uint32_t
kern_row_unit(uint32_t type)
{
	return type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K ||
		type == GGML_TYPE_Q6_K
	    ? 256
	    : 32;
}

int
kern_type_supported(uint32_t type)
{
	return kern_block_bytes(type) != 0;
}

static int
kern_weight_check(const char *op, const struct kern_weight *w, struct err *err)
{
	if (!kern_type_supported(w->type) || w->cols == 0 ||
	    w->cols % kern_row_unit(w->type) != 0)
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: weights of type %u with %u columns are not supported",
		    op, w->type, w->cols);
	if (w->n_chunks == 0)
		return err_set(err, ERR_USAGE, "%s: weight has no data", op);
	return 0;
}

/*
 * Move the f16 scales of SIZE bytes of Q8_0 or Q4_0 blocks at SRC behind
 * all the quants, into DST (the kernels' layout, shaders/weights.glsl).
 */
static void
kern_weight_pack(
    uint32_t type, const unsigned char *src, unsigned char *dst, uint64_t size)
{
	uint64_t bb = kern_block_bytes(type), qb = bb - 2, nblk = size / bb, i;

	for (i = 0; i < nblk; i++) {
		memcpy(dst + nblk * qb + i * 2, src + i * bb, 2);
		memcpy(dst + i * qb, src + i * bb + 2, qb);
	}
}

/*
 * Repack SIZE bytes of Q4_1, Q5_0 or Q5_1 blocks at SRC into DST (the
 * kernels' layout): the 16 bytes of nibbles of every block, then
 * Q5_0's and Q5_1's 4 bytes of bit 4, then the f16 d (and m) of each.
 */
static void
kern_weight_pack_legacy(
    uint32_t type, const unsigned char *src, unsigned char *dst, uint64_t size)
{
	const uint64_t bb = kern_block_bytes(type), nblk = size / bb;
	const uint64_t hb = type == GGML_TYPE_Q4_1 ? 0 : 4, sb = bb - 16 - hb;
	uint64_t i;

	for (i = 0; i < nblk; i++) {
		const unsigned char *b = src + i * bb;

		memcpy(dst + i * 16, b + bb - 16, 16);
		memcpy(dst + nblk * 16 + i * hb, b + sb, hb);
		memcpy(dst + nblk * (16 + hb) + i * sb, b, sb);
	}
}

/*
 * Repack SIZE bytes of Q4_K, Q5_K or Q6_K super-blocks at SRC into DST
 * in the kernels' layout (shaders/weights.glsl): per 32-value block the
 * low nibbles as in Q4_0, then the regions of headers and high bits.
 */
static void
kern_weight_pack_k(
    uint32_t type, const unsigned char *src, unsigned char *dst, uint64_t size)
{
	uint64_t tb = kern_block_bytes(type), nsb = size / tb;
	uint64_t nblk = nsb * 8, s, b, e;
	unsigned char *hdr = dst + nblk * 16, *hi;
	uint8_t q[256];

	memset(dst, 0, size);
	/* Q4_K, Q5_K: 16-byte headers, then Q5_K's 4 bytes of bit 4 */
	hi = hdr + nsb * 16;
	if (type == GGML_TYPE_Q6_K) /* 8 bytes of bits 4-5, then scales */
		hi = hdr;
	for (s = 0; s < nsb; s++) {
		const unsigned char *sb = src + s * tb;

		quant_k_quants(type, sb, q);
		if (type == GGML_TYPE_Q6_K) {
			memcpy(dst + nblk * 24 + s * 16, sb + 192, 16);
			memcpy(dst + nblk * 26 + s * 2, sb + 208, 2);
		} else {
			memcpy(hdr + s * 16, sb, 16);
		}
		for (b = 0; b < 8; b++) {
			const uint8_t *qb = q + b * 32;
			uint64_t blk = s * 8 + b;

			for (e = 0; e < 16; e++)
				dst[blk * 16 + e] =
				    (unsigned char)((qb[e] & 15) |
					(qb[e + 16] & 15) << 4);
			for (e = 0; e < 32; e++) {
				if (type == GGML_TYPE_Q5_K)
					hi[blk * 4 + e / 8] |=
					    (unsigned char)((qb[e] >> 4 & 1)
						<< e % 8);
				else if (type == GGML_TYPE_Q6_K)
					hi[blk * 8 + e / 4] |=
					    (unsigned char)((qb[e] >> 4 & 3)
						<< e % 4 * 2);
			}
		}
	}
}

int
kern_weight_upload(struct kern *k, uint32_t type, uint32_t rows, uint32_t cols,
    const void *data, const char *name, struct kern_weight *w, struct err *err)
{
	struct vk_buf_chunk *c = NULL;
	uint64_t row_bytes;
	size_t n = 0, i;
	int rc;

	memset(w, 0, sizeof *w);
	if (!kern_type_supported(type))
		return err_set(err, ERR_UNSUPPORTED,
		    "tensor '%s': type %u is not supported by the Vulkan "
		    "kernels (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
		    "Q4_K, Q5_K, Q6_K are)",
		    name, type);
	if (cols == 0 || cols % kern_row_unit(type) != 0 || rows == 0)
		return err_set(err, ERR_UNSUPPORTED,
		    "tensor '%s': %u x %u of %s: rows must have a multiple of "
		    "%u values",
		    name, rows, cols, ggml_type_info(type)->name,
		    kern_row_unit(type));
	row_bytes =
	    (uint64_t)cols / kern_row_unit(type) * kern_block_bytes(type);
	rc = vk_buf_split_rows(row_bytes, rows, k->max_view,
	    k->dev->info.storage_align, &c, &n, err);
	if (rc < 0)
		return err_prefix(err, "tensor '%s'", name);
	w->type = type;
	w->rows = rows;
	w->cols = cols;
	w->chunks = xcalloc(n, sizeof *w->chunks);
	w->bufs = xcalloc(n, sizeof *w->bufs);
	for (i = 0; i < n && rc == 0; i++) {
		const unsigned char *src =
		    (const unsigned char *)data + c[i].offset;
		unsigned char *packed = NULL;

		/* texel views cover whole 16-byte texels */
		rc = vk_buf_new(k->dev,
		    k->texel_views ? (c[i].size + 15) / 16 * 16 : c[i].size,
		    VK_BUF_DEVICE, name, &w->bufs[i], err);
		if (rc < 0)
			break;
		w->n_bufs++;
		if (type == GGML_TYPE_Q8_0 || type == GGML_TYPE_Q4_0) {
			packed = xmalloc(c[i].size);
			kern_weight_pack(type, src, packed, c[i].size);
			src = packed;
		} else if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_0 ||
		    type == GGML_TYPE_Q5_1) {
			packed = xmalloc(c[i].size);
			kern_weight_pack_legacy(type, src, packed, c[i].size);
			src = packed;
		} else if (kern_row_unit(type) == 256) {
			packed = xmalloc(c[i].size);
			kern_weight_pack_k(type, src, packed, c[i].size);
			src = packed;
		}
		rc = vk_buf_upload(w->bufs[i], 0, src, c[i].size, err);
		free(packed);
		w->chunks[i].view = vk_buf_view(w->bufs[i], 0, c[i].size);
		if (rc == 0) {
			/* the whole buffer: rounded up to texels above */
			struct vk_view t = vk_buf_all(w->bufs[i]);

			rc = kern_texel_view(k, &t, err);
			w->chunks[i].view.texel = t.texel;
		}
		w->chunks[i].row0 = (uint32_t)c[i].row0;
		w->chunks[i].rows = (uint32_t)c[i].rows;
	}
	w->n_chunks = n;
	free(c);
	if (rc < 0)
		kern_weight_release(w);
	return rc;
}

void
kern_weight_release(struct kern_weight *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n_chunks; i++)
		if (w->chunks[i].view.texel != VK_NULL_HANDLE)
			vk_buf_texel_free(
			    w->bufs[i]->dev, w->chunks[i].view.texel);
	for (i = 0; i < w->n_bufs; i++)
		vk_buf_free(w->bufs[i]);
	free(w->bufs);
	free(w->chunks);
	memset(w, 0, sizeof *w);
}

/* Whether N columns go through the matrix-vector kernel. */
static int
kern_mv_takes(const struct kern *k, uint32_t n)
{
	return n <= KERN_MV_MAX_COLS || k->lane_rows;
}

int
kern_fusable(const struct kern *k, const struct kern_weight *w, uint32_t n)
{
	return kern_mv_takes(k, n) && w->n_chunks == 1;
}

/*
 * Record mul_mv over chunk C of W (rows C->rows) for N columns, with F's
 * fused steps (NULL: none); Y's offset is already the chunk's.
 */
static int
kern_mv_record(struct kern *k, struct vk_graph *g, const struct kern_weight *w,
    const struct kern_weight_chunk *c, struct kern_mat x, struct kern_mat y,
    uint32_t n, int accumulate, const struct kern_fuse *f, struct err *err)
{
	/*
	 * Columns per dispatch: 1, 2, 4 or 8 (fewer pipelines to make);
	 * the CPU strategy at most KERN_MV_CPU_COLS: llvmpipe's compile
	 * time grows with the unrolled loads of cached x.  With an empty
	 * Mesa shader cache, smollm2-135m's first prompt took 3.5 s with
	 * 2, 7 s with 4 and 19 s with 8 columns, and its prompts ran at
	 * 85-89, 102-124 and 122-137 tok/s (docs/PERFORMANCE.md).
	 */
	uint32_t cap = k->lane_rows ? KERN_MV_CPU_COLS : KERN_MV_MAX_COLS;
	uint32_t ncols = n <= 1 ? 1
	    : n <= 2		? 2
	    : n <= 4		? 4
				: KERN_MV_MAX_COLS;
	uint32_t nb = w->cols / 32, nbl = 0, rows_wg = KERN_MV_ROWS;
	enum kern_epi epi = f != NULL ? f->epi : KERN_EPI_STORE;
	struct vk_view views[8] = { c->view, x.view, y.view, x.view, x.view,
		y.view, y.view, x.view };
	uint32_t push[17] = { w->cols, c->rows, x.off, x.stride, y.off,
		y.stride, (uint32_t)(accumulate != 0), w->cols, 0, n };
	uint32_t pairs, gx, gy;
	struct vk_pipe *p;
	float one = 1.0f;
	int rc;

	if (ncols > cap)
		ncols = cap;
	if (k->lane_rows) {
		/*
		 * Slots of LB invocations (the least power of two covering a
		 * row's blocks) each take a row pair, so short rows keep
		 * every lane busy.  Workgroups of 8 WG rows (64 on lavapipe;
		 * a multiple of two rows per slot), 2 WG rows for matrices
		 * under 512 rows so that several workgroups share the work:
		 * two sizes, few pipelines.
		 */
		uint32_t lb = 1;

		while (lb < nb && lb < k->wg)
			lb *= 2;
		nbl = kern_div_up(nb, lb);
		if (nbl * ncols > KERN_MV_MAX_CACHE)
			nbl = lb = 0;
		rows_wg =
		    c->rows >= 8 * KERN_MV_CPU_ROWS ? 8 * k->wg : 2 * k->wg;
		nbl |= lb << 8;
	}
	memcpy(&push[8], &one, 4);
	if (f != NULL && f->norm != NULL) {
		views[3] = *f->norm;
		push[7] = f->n_norm;
		memcpy(&push[8], &f->eps, 4);
	}
	if (epi == KERN_EPI_ROPE_KV) {
		const struct kern_rope *r = f->rope;
		float theta_scale = powf(r->freq_base, -2.0f / (float)r->n_rot);

		views[4] = f->tok;
		views[5] = f->kc;
		views[6] = f->vc;
		if (r->freq_factors != NULL)
			views[7] = *r->freq_factors;
		push[10] = r->head_dim;
		push[11] = r->n_rot;
		push[12] = f->q_dim;
		push[13] = f->kv_dim;
		memcpy(&push[14], &theta_scale, 4);
		memcpy(&push[15], &r->freq_scale, 4);
		push[16] = r->freq_factors != NULL;
	}
	{
		uint32_t spec[] = { k->wg, w->type, ncols, rows_wg, k->nsub,
			nbl, (uint32_t)epi, f != NULL && f->norm != NULL };

		int tex = k->texel && c->view.texel != VK_NULL_HANDLE;

		rc = kern_pipe(k,
		    epi == KERN_EPI_ROPE_KV
			? tex ? KERN_MUL_MV_KV_TEX : KERN_MUL_MV_KV
			: tex ? KERN_MUL_MV_TEX
			      : KERN_MUL_MV,
		    spec, ARRAY_LEN(spec), &p, err);
	}
	if (rc < 0)
		return rc;
	pairs = epi == KERN_EPI_SILU || epi == KERN_EPI_GELU
	    ? c->rows / 2
	    : kern_div_up(c->rows, 2);
	kern_groups(k, kern_div_up(pairs, rows_wg / 2), &gx, &gy);
	return vk_graph_dispatch(
	    g, p, views, push, gx, gy, kern_div_up(n, ncols), err);
}

/* The checks shared by kern_mul_mat and kern_mul_mat_fused. */
static int
kern_mul_mat_check(const struct kern_weight *w, const struct kern_mat *x,
    const struct kern_mat *y, uint32_t n, uint32_t y_cols, struct err *err)
{
	int rc;

	if ((rc = kern_weight_check("mul_mat", w, err)) < 0 ||
	    (rc = kern_mat_check("mul_mat", "x", x, n, w->cols, err)) < 0 ||
	    (rc = kern_mat_check("mul_mat", "y", y, n, y_cols, err)) < 0)
		return rc;
	/* The matrix-vector kernel reads x as vec4. */
	if (x->off % 4 != 0 || x->stride % 4 != 0)
		return err_set(err, ERR_UNSUPPORTED,
		    "mul_mat: x offset %u and stride %u must be multiples of 4",
		    x->off, x->stride);
	return 0;
}

int
kern_mul_mat(struct kern *k, struct vk_graph *g, const struct kern_weight *w,
    struct kern_mat x, struct kern_mat y, uint32_t n, int accumulate,
    struct err *err)
{
	struct vk_pipe *p;
	size_t i;
	int rc;

	if ((rc = kern_mul_mat_check(w, &x, &y, n, w->rows, err)) < 0)
		return rc;
	for (i = 0; i < w->n_chunks; i++) {
		const struct kern_weight_chunk *c = &w->chunks[i];
		struct vk_view views[3] = { c->view, x.view, y.view };

		if (kern_mv_takes(k, n)) {
			struct kern_mat yc = y;

			yc.off += c->row0;
			rc = kern_mv_record(
			    k, g, w, c, x, yc, n, accumulate, NULL, err);
		} else {
			uint32_t spec[] = { (KERN_MM_BM / KERN_MM_TM) *
				    (KERN_MM_BN / KERN_MM_TN),
				w->type, KERN_MM_BM, KERN_MM_BN, KERN_MM_TM,
				KERN_MM_TN };
			uint32_t push[] = { w->cols, c->rows, n, x.off,
				x.stride, y.off + c->row0, y.stride,
				(uint32_t)(accumulate != 0) };

			rc = kern_pipe(
			    k, KERN_MUL_MM, spec, ARRAY_LEN(spec), &p, err);
			if (rc < 0)
				return rc;
			rc = vk_graph_dispatch(g, p, views, push,
			    kern_div_up(c->rows, KERN_MM_BM),
			    kern_div_up(n, KERN_MM_BN), 1, err);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
kern_mul_mat_fused(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct kern_mat x, struct kern_mat y,
    uint32_t n, int accumulate, const struct kern_fuse *f, struct err *err)
{
	uint32_t y_cols = w->rows;
	int rc;

	if (!kern_fusable(k, w, n))
		return err_set(err, ERR_UNSUPPORTED,
		    "mul_mat: %u columns of a weight in %zu chunks cannot be "
		    "fused",
		    n, w->n_chunks);
	if (f->norm != NULL &&
	    (f->n_norm == 0 || f->n_norm % 4 != 0 || f->n_norm > w->cols ||
		f->norm->size < (uint64_t)f->n_norm * 4))
		return err_set(err, ERR_RANGE,
		    "mul_mat: norm of %u values (a multiple of 4; view of %llu "
		    "bytes) for rows of %u",
		    f->n_norm, (unsigned long long)f->norm->size, w->cols);
	if (f->epi == KERN_EPI_SILU || f->epi == KERN_EPI_GELU) {
		if (w->rows % 2 != 0 || accumulate)
			return err_set(err, ERR_UNSUPPORTED,
			    "mul_mat: %s epilogue over %u rows",
			    f->epi == KERN_EPI_SILU ? "silu" : "gelu", w->rows);
		y_cols = w->rows / 2;
	} else if (f->epi == KERN_EPI_ROPE_KV) {
		const struct kern_rope *r = f->rope;
		uint64_t kv_bytes;
		int rc2;

		if (accumulate || r == NULL || r->head_dim % 2 != 0 ||
		    r->n_rot % 2 != 0 || r->n_rot == 0 ||
		    r->n_rot > r->head_dim || f->q_dim % r->head_dim != 0 ||
		    f->kv_dim % r->head_dim != 0 ||
		    w->rows != f->q_dim + 2 * f->kv_dim)
			return err_set(err, ERR_UNSUPPORTED,
			    "mul_mat: rope epilogue over %u rows (q %u, kv %u, "
			    "head size %u)",
			    w->rows, f->q_dim, f->kv_dim,
			    r != NULL ? r->head_dim : 0);
		if ((rc2 = kern_tok_check("mul_mat", f->tok, n, err)) < 0)
			return rc2;
		if (r->freq_factors != NULL &&
		    r->freq_factors->size < (uint64_t)r->n_rot / 2 * 4)
			return err_set(err, ERR_RANGE,
			    "mul_mat: frequency factors need %u values",
			    r->n_rot / 2);
		/* The caches are checked per slot by the host (engine). */
		kv_bytes = (uint64_t)f->kv_dim * 2;
		if (f->kc.buf == NULL || f->vc.buf == NULL ||
		    f->kc.size < kv_bytes || f->vc.size < kv_bytes)
			return err_set(err, ERR_RANGE,
			    "mul_mat: KV caches too small for rows of %u",
			    f->kv_dim);
		y_cols = f->q_dim;
	}
	if ((rc = kern_mul_mat_check(w, &x, &y, n, y_cols, err)) < 0)
		return rc;
	return kern_mv_record(
	    k, g, w, &w->chunks[0], x, y, n, accumulate, f, err);
}

int
kern_get_rows(struct kern *k, struct vk_graph *g, const struct kern_weight *w,
    struct vk_view tok, struct kern_mat y, uint32_t n, struct err *err)
{
	return kern_get_rows_scaled(k, g, w, tok, y, n, 1.0f, err);
}

/* get_rows by token id (POS 0) or by position, added to y (POS 1). */
static int
kern_get_rows_any(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct vk_view tok, struct kern_mat y,
    uint32_t n, float scale, uint32_t pos, struct err *err)
{
	struct vk_pipe *p;
	size_t i;
	int rc;

	if ((rc = kern_weight_check("get_rows", w, err)) < 0 ||
	    (rc = kern_tok_check("get_rows", tok, n, err)) < 0 ||
	    (rc = kern_mat_check("get_rows", "y", &y, n, w->cols, err)) < 0)
		return rc;
	for (i = 0; i < w->n_chunks; i++) {
		const struct kern_weight_chunk *c = &w->chunks[i];
		struct vk_view views[3] = { c->view, tok, y.view };
		uint32_t spec[] = { KERN_EW_WG, w->type, pos };
		uint32_t push[] = { w->cols, c->row0, c->rows, y.off, y.stride,
			0 };

		memcpy(&push[5], &scale, 4);
		rc =
		    kern_pipe(k, KERN_GET_ROWS, spec, ARRAY_LEN(spec), &p, err);
		if (rc == 0)
			rc = vk_graph_dispatch(g, p, views, push,
			    kern_div_up(w->cols, KERN_EW_WG), n, 1, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
kern_get_rows_scaled(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct vk_view tok, struct kern_mat y,
    uint32_t n, float scale, struct err *err)
{
	return kern_get_rows_any(k, g, w, tok, y, n, scale, 0, err);
}

int
kern_get_rows_pos_add(struct kern *k, struct vk_graph *g,
    const struct kern_weight *w, struct vk_view tok, struct kern_mat y,
    uint32_t n, struct err *err)
{
	return kern_get_rows_any(k, g, w, tok, y, n, 1.0f, 1, err);
}

/*
 * rmsnorm over HEADS runs of COLS values per row, added to y when ADD,
 * LayerNorm with bias B (may be NULL) when MEAN (see rmsnorm.comp).
 */
static int
kern_norm_runs(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, const struct vk_view *b, struct kern_mat y,
    uint32_t cols, uint32_t heads, uint32_t n, float eps, int add, int mean,
    struct err *err)
{
	struct vk_view views[4] = { x.view, w != NULL ? *w : x.view, y.view,
		b != NULL ? *b : x.view };
	uint32_t spec[] = { k->wg, k->nsub, mean != 0 };
	uint32_t push[11] = { cols, n * heads, x.off, x.stride, y.off, y.stride,
		w != NULL, 0, heads, add != 0, b != NULL };
	struct vk_pipe *p;
	uint32_t gx, gy;
	int rc;

	if (heads == 0 || (uint64_t)cols * heads > UINT32_MAX ||
	    (uint64_t)n * heads > UINT32_MAX)
		return err_set(err, ERR_RANGE,
		    "rmsnorm: %u heads of %u values over %u rows", heads, cols,
		    n);
	if ((rc = kern_mat_check("rmsnorm", "x", &x, n, cols * heads, err)) <
		0 ||
	    (rc = kern_mat_check("rmsnorm", "y", &y, n, cols * heads, err)) < 0)
		return rc;
	if (w != NULL && w->size < (uint64_t)cols * 4)
		return err_set(err, ERR_RANGE,
		    "rmsnorm: weight view has %llu bytes, need %u",
		    (unsigned long long)w->size, cols * 4);
	if (b != NULL && b->size < (uint64_t)cols * 4)
		return err_set(err, ERR_RANGE,
		    "rmsnorm: bias view has %llu bytes, need %u",
		    (unsigned long long)b->size, cols * 4);
	memcpy(&push[7], &eps, 4);
	rc = kern_pipe(k, KERN_RMSNORM, spec, ARRAY_LEN(spec), &p, err);
	if (rc < 0)
		return rc;
	kern_groups(k, n * heads, &gx, &gy);
	return vk_graph_dispatch(g, p, views, push, gx, gy, 1, err);
}

int
kern_rmsnorm(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, struct kern_mat y, uint32_t cols, uint32_t n,
    float eps, struct err *err)
{
	return kern_norm_runs(k, g, x, w, NULL, y, cols, 1, n, eps, 0, 0, err);
}

int
kern_rmsnorm_add(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, struct kern_mat y, uint32_t cols, uint32_t n,
    float eps, struct err *err)
{
	uint64_t xa = x.view.offset + (uint64_t)x.off * 4;
	uint64_t xe = x.view.offset +
	    ((uint64_t)x.off + (uint64_t)(n - 1) * x.stride + cols) * 4;
	uint64_t ya = y.view.offset + (uint64_t)y.off * 4;
	uint64_t ye = y.view.offset +
	    ((uint64_t)y.off + (uint64_t)(n - 1) * y.stride + cols) * 4;

	if (n > 0 && x.view.buf == y.view.buf && xa < ye && ya < xe)
		return err_set(err, ERR_USAGE,
		    "rmsnorm: adding into '%s' over its own input",
		    y.view.buf->label);
	return kern_norm_runs(k, g, x, w, NULL, y, cols, 1, n, eps, 1, 0, err);
}

int
kern_rmsnorm_heads(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, struct kern_mat y, uint32_t head_dim,
    uint32_t heads, uint32_t n, float eps, struct err *err)
{
	return kern_norm_runs(
	    k, g, x, w, NULL, y, head_dim, heads, n, eps, 0, 0, err);
}

int
kern_layernorm(struct kern *k, struct vk_graph *g, struct kern_mat x,
    const struct vk_view *w, const struct vk_view *b, struct kern_mat y,
    uint32_t cols, uint32_t n, float eps, struct err *err)
{
	return kern_norm_runs(k, g, x, w, b, y, cols, 1, n, eps, 0, 1, err);
}

/*
 * add and silu_mul: y = f(a, b) element-wise over N rows of COLS; ACT is
 * silu_mul's activation (0 silu, 1 gelu; 0 for add).
 */
static int
kern_binary(struct kern *k, struct vk_graph *g, enum kern_op op, uint32_t act,
    struct kern_mat a, struct kern_mat b, struct kern_mat y, uint32_t cols,
    uint32_t n, struct err *err)
{
	const char *name = kern_defs[op].shader;
	struct vk_view views[3] = { a.view, b.view, y.view };
	uint32_t spec[] = { KERN_EW_WG, act };
	uint32_t push[] = { cols, a.off, a.stride, b.off, b.stride, y.off,
		y.stride };
	struct vk_pipe *p;
	int rc;

	if ((rc = kern_mat_check(name, "first input", &a, n, cols, err)) < 0 ||
	    (rc = kern_mat_check(name, "second input", &b, n, cols, err)) < 0 ||
	    (rc = kern_mat_check(name, "output", &y, n, cols, err)) < 0)
		return rc;
	rc = kern_pipe(k, op, spec, op == KERN_SILU_MUL ? 2 : 1, &p, err);
	if (rc < 0)
		return rc;
	return vk_graph_dispatch(
	    g, p, views, push, kern_div_up(cols, KERN_EW_WG), n, 1, err);
}

int
kern_add(struct kern *k, struct vk_graph *g, struct kern_mat a,
    struct kern_mat b, struct kern_mat y, uint32_t cols, uint32_t n,
    struct err *err)
{
	return kern_binary(k, g, KERN_ADD, 0, a, b, y, cols, n, err);
}

int
kern_silu_mul(struct kern *k, struct vk_graph *g, struct kern_mat gate,
    struct kern_mat up, struct kern_mat y, uint32_t cols, uint32_t n,
    struct err *err)
{
	return kern_binary(k, g, KERN_SILU_MUL, 0, gate, up, y, cols, n, err);
}

int
kern_gelu_mul(struct kern *k, struct vk_graph *g, struct kern_mat gate,
    struct kern_mat up, struct kern_mat y, uint32_t cols, uint32_t n,
    struct err *err)
{
	return kern_binary(k, g, KERN_SILU_MUL, 1, gate, up, y, cols, n, err);
}

int
kern_gelu(struct kern *k, struct vk_graph *g, struct kern_mat x,
    struct kern_mat y, uint32_t cols, uint32_t n, struct err *err)
{
	return kern_binary(k, g, KERN_SILU_MUL, 2, x, x, y, cols, n, err);
}

int
kern_rope(struct kern *k, struct vk_graph *g, struct vk_view tok,
    struct kern_mat x, const struct kern_rope *r, uint32_t n, struct err *err)
{
	struct vk_view views[3] = { tok, x.view,
		r->freq_factors != NULL ? *r->freq_factors : x.view };
	uint32_t spec[] = { KERN_EW_WG };
	uint32_t push[8] = { r->n_heads, r->head_dim, r->n_rot, x.off, x.stride,
		r->freq_factors != NULL };
	float theta_scale, fs = r->freq_scale;
	struct vk_pipe *p;
	int rc;

	if (r->n_rot == 0 || r->n_rot % 2 != 0 || r->n_rot > r->head_dim ||
	    r->n_heads == 0)
		return err_set(err, ERR_RANGE,
		    "rope: %u rotated dims of heads of %u", r->n_rot,
		    r->head_dim);
	if ((rc = kern_tok_check("rope", tok, n, err)) < 0 ||
	    (rc = kern_mat_check(
		 "rope", "x", &x, n, r->n_heads * r->head_dim, err)) < 0)
		return rc;
	if (r->freq_factors != NULL &&
	    r->freq_factors->size < (uint64_t)r->n_rot / 2 * 4)
		return err_set(err, ERR_RANGE,
		    "rope: frequency factors need %u values", r->n_rot / 2);
	theta_scale = powf(r->freq_base, -2.0f / (float)r->n_rot);
	memcpy(&push[6], &theta_scale, 4);
	memcpy(&push[7], &fs, 4);
	rc = kern_pipe(k, KERN_ROPE, spec, ARRAY_LEN(spec), &p, err);
	if (rc < 0)
		return rc;
	return vk_graph_dispatch(g, p, views, push,
	    kern_div_up(r->n_heads * (r->n_rot / 2), KERN_EW_WG), n, 1, err);
}

int
kern_kv_store(struct kern *k, struct vk_graph *g, struct vk_view tok,
    struct kern_mat kx, struct kern_mat vx, struct vk_view kc,
    struct vk_view vc, uint32_t kv_dim, uint32_t n, struct err *err)
{
	struct vk_view views[5] = { tok, kx.view, vx.view, kc, vc };
	uint32_t spec[] = { KERN_EW_WG };
	uint32_t push[] = { kv_dim, kx.off, kx.stride, vx.off, vx.stride };
	struct vk_pipe *p;
	int rc;

	if ((rc = kern_tok_check("kv_store", tok, n, err)) < 0 ||
	    (rc = kern_mat_check("kv_store", "k", &kx, n, kv_dim, err)) < 0 ||
	    (rc = kern_mat_check("kv_store", "v", &vx, n, kv_dim, err)) < 0)
		return rc;
	rc = kern_pipe(k, KERN_KV_STORE, spec, ARRAY_LEN(spec), &p, err);
	if (rc < 0)
		return rc;
	return vk_graph_dispatch(
	    g, p, views, push, kern_div_up(kv_dim, KERN_EW_WG), n, 1, err);
}

int
kern_attention(struct kern *k, struct vk_graph *g, struct vk_view tok,
    struct kern_mat q, struct vk_view kc, struct vk_view vc,
    struct kern_mat out, const struct kern_attn *a, uint32_t n, struct err *err)
{
	struct vk_view views[5] = { tok, q.view, kc, vc, out.view };
	uint32_t spec[] = { k->wg, a->head_dim, k->nsub, KERN_ATTN_CHUNK, 1 };
	uint32_t push[8] = { a->n_head, a->n_head_kv, q.off, q.stride, out.off,
		out.stride, 0, a->window };
	float scale =
	    a->scale != 0.0f ? a->scale : 1.0f / sqrtf((float)a->head_dim);
	/* one position per lane: whole rows as 16-byte words, q as vec4 */
	int lanes = k->lane_rows && k->nsub == 1 && a->head_dim % 8 == 0 &&
	    q.off % 4 == 0 && q.stride % 4 == 0 && kc.offset % 16 == 0 &&
	    vc.offset % 16 == 0;
	/* and the caches through their texel views, when given */
	int tex = lanes && k->texel && kc.texel != VK_NULL_HANDLE &&
	    vc.texel != VK_NULL_HANDLE;
	struct vk_pipe *p;
	int rc;

	if (a->n_head == 0 || a->n_head_kv == 0 ||
	    a->n_head % a->n_head_kv != 0 || a->head_dim == 0 ||
	    a->head_dim > KERN_MAX_HEAD_DIM)
		return err_set(err, ERR_UNSUPPORTED,
		    "attention: %u heads over %u KV heads of %u values "
		    "(head size at most %u, KV heads dividing heads)",
		    a->n_head, a->n_head_kv, a->head_dim, KERN_MAX_HEAD_DIM);
	if ((rc = kern_tok_check("attention", tok, n, err)) < 0 ||
	    (rc = kern_mat_check(
		 "attention", "q", &q, n, a->n_head * a->head_dim, err)) < 0 ||
	    (rc = kern_mat_check("attention", "out", &out, n,
		 a->n_head * a->head_dim, err)) < 0)
		return rc;
	memcpy(&push[6], &scale, 4);
	if (tex) {
		/*
		 * Query heads per workgroup sharing each K/V word: the most,
		 * up to 4, dividing the heads of a KV group, while their q
		 * and sums stay within 192 values a lane: llvmpipe's first
		 * compile of the unrolled shader grows with them (head size
		 * 64: 0.3 s for one head, 1.5 s for three, 2.5 s for four),
		 * and more so reading the caches as storage buffers, the
		 * fallback for devices without texel views: one head there.
		 */
		uint32_t r = a->n_head / a->n_head_kv, hpw = 4;

		while (hpw > 1 &&
		    (r % hpw != 0 || hpw * a->head_dim > KERN_ATTN_HPW_VALUES))
			hpw--;
		spec[4] = hpw;
	}
	rc = kern_pipe(k,
	    tex		? KERN_ATTENTION_LANES_TEX
		: lanes ? KERN_ATTENTION_LANES
			: KERN_ATTENTION,
	    spec, lanes ? 5 : 3, &p, err);
	if (rc < 0)
		return rc;
	return vk_graph_dispatch(
	    g, p, views, push, a->n_head / spec[4], n, 1, err);
}

int
kern_argmax(struct kern *k, struct vk_graph *g, struct kern_mat x,
    uint32_t cols, struct vk_view out, uint32_t out_off, uint32_t n,
    struct err *err)
{
	struct vk_view views[2] = { x.view, out };
	uint32_t spec[] = { k->wg, k->nsub };
	uint32_t push[] = { cols, n, x.off, x.stride, out_off };
	struct vk_pipe *p;
	uint32_t gx, gy;
	int rc;

	if ((rc = kern_mat_check("argmax", "x", &x, n, cols, err)) < 0)
		return rc;
	if (out.buf == NULL || out.size < ((uint64_t)out_off + n) * 4)
		return err_set(err, ERR_RANGE,
		    "argmax: output view too small for %u results", n);
	rc = kern_pipe(k, KERN_ARGMAX, spec, ARRAY_LEN(spec), &p, err);
	if (rc < 0)
		return rc;
	kern_groups(k, n, &gx, &gy);
	return vk_graph_dispatch(g, p, views, push, gx, gy, 1, err);
}

static int
kern_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
kern_bench_read(
    struct kern *k, uint64_t bytes, int reps, double *gbps, struct err *err)
{
	const uint64_t slot = 256; /* >= any minStorageBufferOffsetAlignment */
	struct vk_buf *data = NULL, *sink = NULL;
	struct vk_graph *g = NULL;
	struct vk_pipe *p;
	uint64_t chunk, off;
	uint32_t spec[] = { KERN_EW_WG };
	double *t = NULL;
	size_t n_chunks, i;
	int rc, r;

	*gbps = 0;
	chunk = k->max_view / slot * slot;
	bytes = bytes / 16 * 16;
	if (bytes == 0 || reps < 1)
		return err_set(err, ERR_RANGE, "bench: nothing to read");
	n_chunks = (size_t)((bytes + chunk - 1) / chunk);
	if ((rc = vk_buf_new(k->dev, bytes, VK_BUF_DEVICE, "bandwidth test",
		 &data, err)) < 0 ||
	    (rc = vk_buf_new(k->dev, n_chunks * slot, VK_BUF_DEVICE,
		 "bandwidth sink", &sink, err)) < 0 ||
	    (rc = kern_pipe(k, KERN_BW_READ, spec, 1, &p, err)) < 0 ||
	    (rc = vk_graph_new(k->dev, &g, err)) < 0 ||
	    (rc = vk_graph_begin(g, err)) < 0)
		goto done;
	for (i = 0, off = 0; i < n_chunks; i++, off += chunk) {
		uint64_t size = bytes - off < chunk ? bytes - off : chunk;
		struct vk_view views[2] = { vk_buf_view(data, off, size),
			vk_buf_view(sink, i * slot, slot) };
		float magic = 1.5e38f;
		uint32_t push[2] = { (uint32_t)(size / 16) };
		uint32_t groups = kern_div_up(push[0], KERN_EW_WG * 4);

		memcpy(&push[1], &magic, 4);
		if (groups > k->dev->info.max_groups[0])
			groups = k->dev->info.max_groups[0];
		rc = vk_graph_dispatch(g, p, views, push, groups, 1, 1, err);
		if (rc < 0)
			goto done;
	}
	if ((rc = vk_graph_end(g, err)) < 0 || (rc = vk_graph_run(g, err)) < 0)
		goto done;
	t = xcalloc((size_t)reps, sizeof *t);
	for (r = 0; r < reps && rc == 0; r++) {
		double t0 = util_now();

		rc = vk_graph_run(g, err);
		t[r] = util_now() - t0;
	}
	if (rc == 0) {
		qsort(t, (size_t)reps, sizeof *t, kern_cmp_double);
		*gbps = (double)bytes / t[reps / 2] / 1e9;
	}
done:
	free(t);
	vk_graph_free(g);
	vk_buf_free(sink);
	vk_buf_free(data);
	return rc;
}
