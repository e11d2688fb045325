/*
 * chat: the built-in chat formats, their detection, and rendering into
 * segments and token ids.
 *
 * Each format is a render function over (system, turns, flags) that
 * appends segments with the chat_add_* helpers, plus its end-of-turn
 * tokens and text stop strings.  The renderers follow each format's
 * published template (the source is named above each one; the tests
 * compare with the strings those templates produce).  Every renderer
 * emits a turn as "opening, text, closing" with the generation prompt
 * equal to the assistant turn's opening, which is what makes the
 * rendering of a conversation a prefix of the rendering of any longer
 * one (see chat.h).  Formats that fold the system prompt into the first
 * user turn (llama2, mistral, gemma) render nothing for it until that
 * turn exists.
 *
 * Detection follows llama.cpp's llm_chat_detect_template (src/
 * llama-chat.cpp): substring tests on the Jinja source in a fixed order,
 * restricted to the formats here.  One difference: llama.cpp sends every
 * "[INST]" template without "[SYSTEM_PROMPT]" or Mistral's official
 * markers to its llama2 family; here a template with "<<SYS>>" is llama2
 * and one without it is mistral, since Llama 2's own template always
 * carries <<SYS>> and Mistral's never does.
 */
#include "chat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct chat_format {
	const char *name;
	const char *doc;
	int add_bos;
	const char *const *eog;
	const char *const *stops;
	void (*render)(struct chat_prompt *p, const char *sys,
	    const struct chat_turn *t, size_t n, unsigned flags);
};

/* Append text S (LEN bytes), merging with a text segment just before. */
static void
chat_add_textn(struct chat_prompt *p, const char *s, size_t len)
{
	struct chat_seg *last = p->n_segs > 0 ? &p->segs[p->n_segs - 1] : NULL;

	if (len == 0)
		return;
	if (last != NULL && last->kind == CHAT_SEG_TEXT &&
	    last->off + last->len == p->text.len) {
		sbuf_add(&p->text, s, len);
		last->len += len;
		return;
	}
	if (p->n_segs == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->segs = xreallocarray(p->segs, p->cap, sizeof *p->segs);
	}
	p->segs[p->n_segs].kind = CHAT_SEG_TEXT;
	p->segs[p->n_segs].off = p->text.len;
	p->segs[p->n_segs].len = len;
	p->n_segs++;
	sbuf_add(&p->text, s, len);
}

static void
chat_add_text(struct chat_prompt *p, const char *s)
{
	chat_add_textn(p, s, strlen(s));
}

/* Append a segment of KIND naming NAME ("" for BOS and EOS). */
static void
chat_add_seg(struct chat_prompt *p, enum chat_seg_kind kind, const char *name)
{
	size_t len = strlen(name);

	if (p->n_segs == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->segs = xreallocarray(p->segs, p->cap, sizeof *p->segs);
	}
	p->segs[p->n_segs].kind = kind;
	p->segs[p->n_segs].off = p->text.len;
	p->segs[p->n_segs].len = len;
	p->n_segs++;
	sbuf_add(&p->text, name, len);
}

static void
chat_add_special(struct chat_prompt *p, const char *name)
{
	chat_add_seg(p, CHAT_SEG_SPECIAL, name);
}

static int
chat_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Append S without leading (LEAD) and trailing (TRAIL) white space. */
static void
chat_add_trimmed(struct chat_prompt *p, const char *s, int lead, int trail)
{
	size_t len = strlen(s);

	while (lead && len > 0 && chat_space(*s)) {
		s++;
		len--;
	}
	while (trail && len > 0 && chat_space(s[len - 1]))
		len--;
	chat_add_textn(p, s, len);
}

/* Whether turn I of N is an assistant turn left open by CHAT_CONTINUE. */
static int
chat_open(const struct chat_turn *t, size_t i, size_t n, unsigned flags)
{
	return (flags & CHAT_CONTINUE) && i + 1 == n &&
	    t[i].role == CHAT_ASSISTANT;
}

static const char *
chat_role_name(enum chat_role role)
{
	return role == CHAT_USER ? "user" : "assistant";
}

/*
 * ChatML (OpenAI's chatml.md; the template of Qwen2.5-Instruct's
 * tokenizer_config.json without its tool branches).
 */
static void
chat_render_chatml(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	if (sys != NULL) {
		chat_add_special(p, "<|im_start|>");
		chat_add_text(p, "system\n");
		chat_add_text(p, sys);
		chat_add_special(p, "<|im_end|>");
		chat_add_text(p, "\n");
	}
	for (i = 0; i < n; i++) {
		chat_add_special(p, "<|im_start|>");
		chat_add_text(p, chat_role_name(t[i].role));
		chat_add_text(p, "\n");
		chat_add_text(p, t[i].text);
		if (chat_open(t, i, n, flags))
			break;
		chat_add_special(p, "<|im_end|>");
		chat_add_text(p, "\n");
	}
	if (flags & CHAT_GENERATE) {
		chat_add_special(p, "<|im_start|>");
		chat_add_text(p, "assistant\n");
	}
}

/*
 * Llama 2 chat (Meta's llama/generation.py chat_completion and the
 * template of Llama-2-7b-chat-hf): "<s>[INST] " + strip(content) +
 * " [/INST]", the system prompt inside the first content as
 * "<<SYS>>\n" + system + "\n<</SYS>>\n\n", answers as " " + strip(answer)
 * + " </s>", and every later user turn opening with its own <s>.
 */
static void
chat_render_llama2(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].role == CHAT_ASSISTANT) {
			chat_add_text(p, " ");
			if (chat_open(t, i, n, flags)) {
				chat_add_trimmed(p, t[i].text, 1, 0);
				break;
			}
			chat_add_trimmed(p, t[i].text, 1, 1);
			chat_add_text(p, " ");
			chat_add_seg(p, CHAT_SEG_EOS, "");
			continue;
		}
		if (i > 0)
			chat_add_seg(p, CHAT_SEG_BOS, "");
		chat_add_text(p, "[INST] ");
		if (i == 0 && sys != NULL) {
			/* The template strips the combined content: the
			 * user's text loses trailing space only. */
			chat_add_text(p, "<<SYS>>\n");
			chat_add_text(p, sys);
			chat_add_text(p, "\n<</SYS>>\n\n");
			chat_add_trimmed(p, t[i].text, 0, 1);
		} else {
			chat_add_trimmed(p, t[i].text, 1, 1);
		}
		chat_add_text(p, " [/INST]");
	}
}

/*
 * Mistral Instruct v1 (Mistral's cookbook, concept-deep-dive/
 * tokenization, and the system-prompt template of Mistral-7B-Instruct-
 * v0.2's tokenizer_config.json): "<s>[INST] " + system + "\n\n" + user +
 * " [/INST] " + answer + "</s>[INST] ...".  The template writes " [INST]"
 * with a leading space because SentencePiece adds one to text that
 * follows a special token; the tokenizer does that here, so the text
 * starts at "[INST]".
 */
static void
chat_render_mistral(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].role == CHAT_ASSISTANT) {
			chat_add_text(p, " ");
			chat_add_text(p, t[i].text);
			if (chat_open(t, i, n, flags))
				break;
			chat_add_seg(p, CHAT_SEG_EOS, "");
			continue;
		}
		chat_add_text(p, "[INST] ");
		if (i == 0 && sys != NULL) {
			chat_add_text(p, sys);
			chat_add_text(p, "\n\n");
		}
		chat_add_text(p, t[i].text);
		chat_add_text(p, " [/INST]");
	}
}

/* One Llama 3 header: <|start_header_id|>ROLE<|end_header_id|>\n\n. */
static void
chat_llama3_header(struct chat_prompt *p, const char *role)
{
	chat_add_special(p, "<|start_header_id|>");
	chat_add_text(p, role);
	chat_add_special(p, "<|end_header_id|>");
	chat_add_text(p, "\n\n");
}

/*
 * Llama 3 (Meta's "Meta Llama 3" model card prompt format and the
 * template of Meta-Llama-3-8B-Instruct): a header per message, the
 * content trimmed, <|eot_id|> after it.  (Llama 3.1's template also puts
 * "Cutting Knowledge Date" lines in the system message; the models
 * follow the plain format as well.)
 */
static void
chat_render_llama3(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	if (sys != NULL) {
		chat_llama3_header(p, "system");
		chat_add_trimmed(p, sys, 1, 1);
		chat_add_special(p, "<|eot_id|>");
	}
	for (i = 0; i < n; i++) {
		chat_llama3_header(p, chat_role_name(t[i].role));
		if (chat_open(t, i, n, flags)) {
			chat_add_trimmed(p, t[i].text, 1, 0);
			break;
		}
		chat_add_trimmed(p, t[i].text, 1, 1);
		chat_add_special(p, "<|eot_id|>");
	}
	if (flags & CHAT_GENERATE)
		chat_llama3_header(p, "assistant");
}

/*
 * Zephyr (the template of HuggingFaceH4/zephyr-7b-beta, also TinyLlama
 * chat): "<|role|>\n" + content + eos_token + "\n", generation prompt
 * "<|assistant|>\n".  The markers are text in those vocabularies.
 */
static void
chat_render_zephyr(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	if (sys != NULL) {
		chat_add_seg(p, CHAT_SEG_MARKER, "<|system|>");
		chat_add_text(p, "\n");
		chat_add_text(p, sys);
		chat_add_seg(p, CHAT_SEG_EOS, "");
		chat_add_text(p, "\n");
	}
	for (i = 0; i < n; i++) {
		chat_add_seg(p, CHAT_SEG_MARKER,
		    t[i].role == CHAT_USER ? "<|user|>" : "<|assistant|>");
		chat_add_text(p, "\n");
		chat_add_text(p, t[i].text);
		if (chat_open(t, i, n, flags))
			break;
		chat_add_seg(p, CHAT_SEG_EOS, "");
		chat_add_text(p, "\n");
	}
	if (flags & CHAT_GENERATE) {
		chat_add_seg(p, CHAT_SEG_MARKER, "<|assistant|>");
		chat_add_text(p, "\n");
	}
}

/*
 * Phi-3 (the template of microsoft/Phi-3.5-mini-instruct):
 * "<|role|>\n" + content + "<|end|>\n", generation prompt
 * "<|assistant|>\n"; the markers are special tokens.
 */
static void
chat_render_phi3(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	if (sys != NULL) {
		chat_add_special(p, "<|system|>");
		chat_add_text(p, "\n");
		chat_add_text(p, sys);
		chat_add_special(p, "<|end|>");
		chat_add_text(p, "\n");
	}
	for (i = 0; i < n; i++) {
		chat_add_special(
		    p, t[i].role == CHAT_USER ? "<|user|>" : "<|assistant|>");
		chat_add_text(p, "\n");
		chat_add_text(p, t[i].text);
		if (chat_open(t, i, n, flags))
			break;
		chat_add_special(p, "<|end|>");
		chat_add_text(p, "\n");
	}
	if (flags & CHAT_GENERATE) {
		chat_add_special(p, "<|assistant|>");
		chat_add_text(p, "\n");
	}
}

/*
 * Gemma (the template of google/gemma-2-2b-it): "<start_of_turn>" +
 * role + "\n" + trim(content) + "<end_of_turn>\n" with role "model" for
 * the assistant, generation prompt "<start_of_turn>model\n".  Gemma has
 * no system role; as Gemma 3's template (and llama.cpp) do, the system
 * prompt goes first in the first user turn followed by "\n\n".
 */
static void
chat_render_gemma(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		chat_add_special(p, "<start_of_turn>");
		chat_add_text(p, t[i].role == CHAT_USER ? "user\n" : "model\n");
		if (i == 0 && sys != NULL) {
			chat_add_trimmed(p, sys, 1, 1);
			chat_add_text(p, "\n\n");
		}
		if (chat_open(t, i, n, flags)) {
			chat_add_trimmed(p, t[i].text, 1, 0);
			break;
		}
		chat_add_trimmed(p, t[i].text, 1, 1);
		chat_add_special(p, "<end_of_turn>");
		chat_add_text(p, "\n");
	}
	if (flags & CHAT_GENERATE) {
		chat_add_special(p, "<start_of_turn>");
		chat_add_text(p, "model\n");
	}
}

/*
 * Vicuna v1.1 (FastChat's conversation.py, template "vicuna_v1.1",
 * separator style ADD_COLON_TWO with separators " " and "</s>"): the
 * system message + " ", then "USER: " + text + " " and "ASSISTANT: " +
 * text + "</s>", generation prompt "ASSISTANT:".  Without a system
 * prompt FastChat's default one is used, as the models were trained.
 */
static void
chat_render_vicuna(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	chat_add_text(p,
	    sys != NULL ? sys
			: "A chat between a curious user and an "
			  "artificial intelligence assistant. The "
			  "assistant gives helpful, detailed, and "
			  "polite answers to the user's questions.");
	chat_add_text(p, " ");
	for (i = 0; i < n; i++) {
		if (t[i].role == CHAT_USER) {
			chat_add_text(p, "USER: ");
			chat_add_text(p, t[i].text);
			chat_add_text(p, " ");
			continue;
		}
		chat_add_text(p, "ASSISTANT: ");
		chat_add_text(p, t[i].text);
		if (chat_open(t, i, n, flags))
			break;
		chat_add_seg(p, CHAT_SEG_EOS, "");
	}
	if (flags & CHAT_GENERATE)
		chat_add_text(p, "ASSISTANT:");
}

/*
 * DeepSeek Coder instruct (the template of deepseek-ai/deepseek-coder-
 * 6.7b-instruct; llama.cpp calls it "deepseek"): the system prompt (or
 * the model's default one) as is, "### Instruction:\n" + text + "\n",
 * "### Response:\n" + text + "\n<|EOT|>\n", generation prompt
 * "### Response:\n".
 */
static void
chat_render_deepseek(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	chat_add_text(p,
	    sys != NULL
		? sys
		: "You are an AI programming assistant, utilizing the "
		  "Deepseek Coder model, developed by Deepseek Company, and "
		  "you only answer questions related to computer science. For "
		  "politically sensitive questions, security and privacy "
		  "issues, and other non-computer science questions, you will "
		  "refuse to answer\n");
	for (i = 0; i < n; i++) {
		if (t[i].role == CHAT_USER) {
			chat_add_text(p, "### Instruction:\n");
			chat_add_text(p, t[i].text);
			chat_add_text(p, "\n");
			continue;
		}
		chat_add_text(p, "### Response:\n");
		chat_add_text(p, t[i].text);
		if (chat_open(t, i, n, flags))
			break;
		chat_add_text(p, "\n");
		chat_add_special(p, "<|EOT|>");
		chat_add_text(p, "\n");
	}
	if (flags & CHAT_GENERATE)
		chat_add_text(p, "### Response:\n");
}

/* No template: the texts one after another (base models). */
static void
chat_render_plain(struct chat_prompt *p, const char *sys,
    const struct chat_turn *t, size_t n, unsigned flags)
{
	size_t i;

	if (sys != NULL)
		chat_add_text(p, sys);
	for (i = 0; i < n; i++)
		chat_add_text(p, t[i].text);
}

static const char *const chat_none[] = { NULL };
static const char *const chat_eog_chatml[] = { "<|im_end|>", NULL };
static const char *const chat_eog_llama3[] = { "<|eot_id|>", "<|eom_id|>",
	NULL };
static const char *const chat_eog_phi3[] = { "<|end|>", NULL };
static const char *const chat_eog_gemma[] = { "<end_of_turn>", NULL };
static const char *const chat_eog_deepseek[] = { "<|EOT|>", NULL };
static const char *const chat_stop_inst[] = { "[INST]", NULL };
static const char *const chat_stop_zephyr[] = { "<|user|>", "<|system|>",
	NULL };
static const char *const chat_stop_vicuna[] = { "USER:", NULL };
static const char *const chat_stop_deepseek[] = { "### Instruction:", NULL };

static const struct chat_format chat_formats[] = {
	{ "chatml",
	    "<|im_start|>role ... <|im_end|> (Qwen, SmolLM2, many "
	    "fine-tunes)",
	    0, chat_eog_chatml, chat_none, chat_render_chatml },
	{ "llama2", "Llama 2 chat: <s>[INST] <<SYS>> ... <</SYS>> ... [/INST]",
	    1, chat_none, chat_stop_inst, chat_render_llama2 },
	{ "llama3",
	    "Llama 3 header tokens: <|start_header_id|>role"
	    "<|end_header_id|> ... <|eot_id|>",
	    1, chat_eog_llama3, chat_none, chat_render_llama3 },
	{ "mistral",
	    "Mistral Instruct: [INST] system + user [/INST] answer"
	    "</s>",
	    1, chat_none, chat_stop_inst, chat_render_mistral },
	{ "zephyr",
	    "Zephyr and TinyLlama chat: <|user|> ... </s> "
	    "<|assistant|>",
	    0, chat_none, chat_stop_zephyr, chat_render_zephyr },
	{ "phi3", "Phi-3: <|user|> ... <|end|> <|assistant|>", 0, chat_eog_phi3,
	    chat_none, chat_render_phi3 },
	{ "gemma",
	    "Gemma: <start_of_turn>user ... <end_of_turn> (system "
	    "prompt in the first user turn)",
	    1, chat_eog_gemma, chat_none, chat_render_gemma },
	{ "vicuna", "Vicuna v1.1: SYSTEM USER: ... ASSISTANT: ...</s>", 0,
	    chat_none, chat_stop_vicuna, chat_render_vicuna },
	{ "deepseek",
	    "DeepSeek Coder: ### Instruction: ... ### Response: "
	    "... <|EOT|>",
	    1, chat_eog_deepseek, chat_stop_deepseek, chat_render_deepseek },
	{ "plain", "no template: the texts as they are (base models)", 0,
	    chat_none, chat_none, chat_render_plain },
};

size_t
chat_format_count(void)
{
	return ARRAY_LEN(chat_formats);
}

const struct chat_format *
chat_format_at(size_t i)
{
	return i < ARRAY_LEN(chat_formats) ? &chat_formats[i] : NULL;
}

static const struct chat_format *
chat_format_named(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(chat_formats); i++)
		if (strcmp(chat_formats[i].name, name) == 0)
			return &chat_formats[i];
	return NULL;
}

const struct chat_format *
chat_format_find(const char *name, struct err *err)
{
	const struct chat_format *f = chat_format_named(name);
	struct sbuf list;
	size_t i;

	if (f != NULL)
		return f;
	sbuf_init(&list);
	for (i = 0; i < ARRAY_LEN(chat_formats); i++)
		sbuf_addf(
		    &list, "%s%s", i > 0 ? ", " : "", chat_formats[i].name);
	err_set(err, ERR_NOTFOUND, "unknown chat format '%s' (formats: %s)",
	    name, list.buf);
	sbuf_release(&list);
	return NULL;
}

const char *
chat_format_name(const struct chat_format *f)
{
	return f->name;
}

const char *
chat_format_doc(const struct chat_format *f)
{
	return f->doc;
}

const char *const *
chat_format_eog(const struct chat_format *f)
{
	return f->eog;
}

const char *const *
chat_format_stops(const struct chat_format *f)
{
	return f->stops;
}

/*
 * The template rules, in llama.cpp's order: the format and the markers
 * that must all be present (up to three).
 */
static const struct {
	const char *format;
	const char *markers[3];
} chat_template_rules[] = {
	{ "chatml", { "<|im_start|>" } },
	{ "llama2", { "[INST]", "<<SYS>>" } },
	{ "mistral", { "[INST]" } },
	{ "phi3", { "<|assistant|>", "<|end|>" } },
	{ "zephyr", { "<|user|>", "<|assistant|>" } },
	{ "zephyr", { "<|user|>", "<|endoftext|>" } },
	{ "gemma", { "<start_of_turn>" } },
	{ "vicuna", { "USER: ", "ASSISTANT: " } },
	{ "deepseek", { "### Instruction:", "<|EOT|>" } },
	{ "llama3", { "<|start_header_id|>", "<|end_header_id|>" } },
};

/* The vocabulary rules: special tokens that identify a format. */
static const struct {
	const char *format;
	const char *tokens[2];
} chat_vocab_rules[] = {
	{ "chatml", { "<|im_start|>", "<|im_end|>" } },
	{ "llama3", { "<|start_header_id|>", "<|eot_id|>" } },
	{ "gemma", { "<start_of_turn>", "<end_of_turn>" } },
	{ "phi3", { "<|assistant|>", "<|end|>" } },
	{ "deepseek", { "<|EOT|>" } },
	{ "mistral", { "[INST]", "[/INST]" } },
};

static void
chat_why_markers(struct sbuf *why, const char *const *m, size_t max)
{
	size_t i;

	for (i = 0; i < max && m[i] != NULL; i++)
		sbuf_addf(why, "%s%s", i == 0 ? "" : " and ", m[i]);
}

const struct chat_format *
chat_detect(
    const char *tmpl, chat_has_token_fn has_token, void *ctx, struct sbuf *why)
{
	struct sbuf dummy;
	size_t i, j;

	sbuf_init(&dummy);
	if (why == NULL)
		why = &dummy;
	if (tmpl != NULL && *tmpl != '\0') {
		const struct chat_format *f = chat_format_named(tmpl);

		if (f != NULL) {
			sbuf_addf(why, "from chat_template: names the format");
			sbuf_release(&dummy);
			return f;
		}
		for (i = 0; i < ARRAY_LEN(chat_template_rules); i++) {
			const char *const *m = chat_template_rules[i].markers;

			for (j = 0; j < 3 && m[j] != NULL; j++)
				if (strstr(tmpl, m[j]) == NULL)
					break;
			if (j < 3 && m[j] != NULL)
				continue;
			sbuf_adds(why, "from chat_template: contains ");
			chat_why_markers(why, m, 3);
			sbuf_release(&dummy);
			return chat_format_named(chat_template_rules[i].format);
		}
		sbuf_adds(why, "chat_template not recognised; ");
	} else {
		sbuf_adds(why, "no chat_template; ");
	}
	for (i = 0; has_token != NULL && i < ARRAY_LEN(chat_vocab_rules); i++) {
		const char *const *tk = chat_vocab_rules[i].tokens;

		for (j = 0; j < 2 && tk[j] != NULL; j++)
			if (!has_token(ctx, tk[j]))
				break;
		if (j < 2 && tk[j] != NULL)
			continue;
		sbuf_adds(why, "from the vocabulary: has ");
		chat_why_markers(why, tk, 2);
		sbuf_release(&dummy);
		return chat_format_named(chat_vocab_rules[i].format);
	}
	sbuf_adds(why, "no chat tokens in the vocabulary: plain");
	sbuf_release(&dummy);
	return chat_format_named("plain");
}

/* The id of a CONTROL or USER_DEFINED token with text NAME, or -1. */
static int32_t
chat_token_id(const struct tokenizer *tok, const char *name, size_t len)
{
	int32_t id = tokenizer_find(tok, name, len);
	enum tok_type type;

	if (id < 0)
		return -1;
	type = tokenizer_type(tok, id);
	return type == TOK_TYPE_CONTROL || type == TOK_TYPE_USER_DEFINED ? id
									 : -1;
}

static int
chat_has_token(void *ctx, const char *name)
{
	return chat_token_id(ctx, name, strlen(name)) >= 0;
}

const struct chat_format *
chat_detect_tokenizer(
    const char *tmpl, const struct tokenizer *tok, struct sbuf *why)
{
	return chat_detect(tmpl, tok != NULL ? chat_has_token : NULL,
	    (void *)(uintptr_t)tok, why);
}

void
chat_prompt_init(struct chat_prompt *p)
{
	p->segs = NULL;
	p->n_segs = 0;
	p->cap = 0;
	sbuf_init(&p->text);
	p->add_bos = 0;
}

void
chat_prompt_release(struct chat_prompt *p)
{
	free(p->segs);
	p->segs = NULL;
	p->n_segs = p->cap = 0;
	sbuf_release(&p->text);
}

int
chat_render(const struct chat_format *f, const char *system,
    const struct chat_turn *turns, size_t n, unsigned flags,
    struct chat_prompt *out, struct err *err)
{
	size_t i;

	if ((flags & CHAT_GENERATE) && (flags & CHAT_CONTINUE))
		return err_set(err, ERR_USAGE,
		    "chat: cannot both open a new assistant turn and continue "
		    "the last one");
	for (i = 0; i < n; i++) {
		enum chat_role want = i % 2 == 0 ? CHAT_USER : CHAT_ASSISTANT;

		if (turns[i].role != want)
			return err_set(err, ERR_USAGE,
			    "chat: turn %zu is the %s's, expected the %s's "
			    "(turns alternate, the user first)",
			    i + 1, chat_role_name(turns[i].role),
			    chat_role_name(want));
		if (turns[i].text == NULL)
			return err_set(err, ERR_USAGE,
			    "chat: turn %zu has no text", i + 1);
	}
	if ((flags & CHAT_GENERATE) && n > 0 && turns[n - 1].role != CHAT_USER)
		return err_set(err, ERR_USAGE,
		    "chat: the last turn is the assistant's: nothing to answer "
		    "(continue it instead)");
	if ((flags & CHAT_CONTINUE) &&
	    (n == 0 || turns[n - 1].role != CHAT_ASSISTANT))
		return err_set(err, ERR_USAGE,
		    "chat: there is no assistant turn to continue");
	out->n_segs = 0;
	sbuf_reset(&out->text);
	out->add_bos = f->add_bos;
	f->render(out, system != NULL && *system != '\0' ? system : NULL, turns,
	    n, flags);
	return 0;
}

void
chat_prompt_flatten(const struct chat_prompt *p, const char *bos_text,
    const char *eos_text, struct sbuf *out)
{
	size_t i;

	if (p->add_bos)
		sbuf_adds(out, bos_text);
	for (i = 0; i < p->n_segs; i++) {
		const struct chat_seg *s = &p->segs[i];

		if (s->kind == CHAT_SEG_BOS)
			sbuf_adds(out, bos_text);
		else if (s->kind == CHAT_SEG_EOS)
			sbuf_adds(out, eos_text);
		else
			sbuf_add(out, p->text.buf + s->off, s->len);
	}
}

/* Tokenize the pending text (if any) into OUT and empty it. */
static int
chat_flush(const struct tokenizer *tok, struct sbuf *pending,
    struct tokenizer_ids *out, struct err *err)
{
	int rc = 0;

	if (pending->len > 0)
		rc = tokenizer_encode(
		    tok, pending->buf, pending->len, 0, out, err);
	sbuf_reset(pending);
	return rc;
}

int
chat_render_tokens(const struct chat_prompt *p, const struct tokenizer *tok,
    struct tokenizer_ids *out, size_t *n_missing, struct err *err)
{
	struct sbuf pending;
	size_t i, missing = 0;
	int rc = 0;

	sbuf_init(&pending);
	if ((p->add_bos || tokenizer_add_bos(tok)) && tokenizer_bos(tok) >= 0)
		tokenizer_ids_push(out, tokenizer_bos(tok));
	for (i = 0; i < p->n_segs && rc == 0; i++) {
		const struct chat_seg *s = &p->segs[i];
		const char *text = p->text.buf + s->off;
		int32_t id = -1;

		switch (s->kind) {
		case CHAT_SEG_TEXT:
			sbuf_add(&pending, text, s->len);
			continue;
		case CHAT_SEG_SPECIAL:
		case CHAT_SEG_MARKER:
			id = chat_token_id(tok, text, s->len);
			if (id < 0) {
				sbuf_add(&pending, text, s->len);
				missing += s->kind == CHAT_SEG_SPECIAL;
				continue;
			}
			break;
		case CHAT_SEG_BOS:
		case CHAT_SEG_EOS:
			id = s->kind == CHAT_SEG_BOS ? tokenizer_bos(tok)
						     : tokenizer_eos(tok);
			if (id < 0) {
				missing++;
				continue;
			}
			break;
		}
		if ((rc = chat_flush(tok, &pending, out, err)) == 0)
			tokenizer_ids_push(out, id);
	}
	if (rc == 0)
		rc = chat_flush(tok, &pending, out, err);
	sbuf_release(&pending);
	if (n_missing != NULL)
		*n_missing = missing;
	return rc;
}

size_t
chat_common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	size_t i, n = na < nb ? na : nb;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}
