/*
 * act: the feed-forward gate activations, shared by silu_mul.comp and
 * mul_mv.comp's gated epilogues.
 *   act_silu(v) = v / (1 + e^-v)                      (SwiGLU: llama, qwen)
 *   act_gelu(v) = v / 2 * (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3)))
 *                                                    (GeGLU: gemma3)
 * GELU is ggml's tanh approximation, written as v / (1 + e^-2u), u the
 * tanh's argument: the same function (1 + tanh u = 2 / (1 + e^-2u)),
 * with no overflow to inf / inf for large |v|.
 * References: ref_silu_mul(), ref_gelu_mul() in tests/ref.c.
 */

float
act_silu(float v)
{
	return v / (1.0 + exp(-v));
}

float
act_gelu(float v)
{
	const float u = 0.7978845608028654 * (v + 0.044715 * v * v * v);

	return v / (1.0 + exp(-2.0 * u));
}
