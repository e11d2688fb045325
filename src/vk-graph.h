/*
 * vk-graph: a recorded command graph.  Dispatches are recorded once into
 * a command buffer, with their descriptor sets allocated and written at
 * record time, and the graph is then replayed any number of times: one
 * submit and one fence wait per replay, no allocation.
 *
 * Values that change per replay (token ids, positions, KV lengths) are
 * not push constants: kernels read them from a small host-visible "step"
 * buffer that the host rewrites before each replay.
 *
 * Barriers: the graph tracks the buffer ranges read and written since the
 * last barrier and inserts one global memory barrier (compute to compute)
 * before a dispatch that reads or writes what an earlier one wrote, or
 * writes what an earlier one read.  Independent dispatches share a stage.
 * Every replay starts with a barrier against the previous submission's
 * work and ends with one that makes results visible to the host and to
 * transfers.
 */
#ifndef VKCHAT_VK_GRAPH_H
#define VKCHAT_VK_GRAPH_H

#include <stdint.h>

#include "err.h"
#include "vk-buf.h"
#include "vk-device.h"
#include "vk-pipe.h"

struct vk_graph;

/* A new empty graph on DEV (heap object, vk_graph_free). */
int vk_graph_new(struct vk_device *dev, struct vk_graph **out, struct err *err);

/* Free G (waits for the device first).  NULL is ignored. */
void vk_graph_free(struct vk_graph *g);

/* Start recording, dropping any previous recording and its sets. */
int vk_graph_begin(struct vk_graph *g, struct err *err);

/*
 * Record a dispatch of P with P->desc.n_bind VIEWS, PUSH (P's push size)
 * and GX x GY x GZ workgroups.  Views are checked against the device's
 * offset alignment and range limits.  An error is also kept and returned
 * again by vk_graph_end.
 */
int vk_graph_dispatch(struct vk_graph *g, const struct vk_pipe *p,
    const struct vk_view *views, const void *push, uint32_t gx, uint32_t gy,
    uint32_t gz, struct err *err);

/* Record a barrier now (for dependencies the graph cannot see). */
void vk_graph_barrier(struct vk_graph *g);

/* Finish recording; returns the first error of the recording, if any. */
int vk_graph_end(struct vk_graph *g, struct err *err);

/* Replay the recording: submit it and wait for it to finish. */
int vk_graph_run(struct vk_graph *g, struct err *err);

/* Dispatches and barriers in the recording (for tests and statistics). */
void vk_graph_stats(
    const struct vk_graph *g, unsigned *dispatches, unsigned *barriers);

#endif
