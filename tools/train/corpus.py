#!/usr/bin/python3
"""corpus: the pocket model's training conversations, deterministically.

Sources: WordNet 3.0 as Debian's wordnet-base installs it (the index.* and
data.* files under /usr/share/wordnet, parsed directly: a synset's offset
in index.POS is its byte offset in data.POS), vkchat's manual pages
(rendered with mandoc, formatting stripped) and, with --vkchat, the
--help text of a built vkchat binary.

Every conversation is ChatML with the fixed system prompt of config.py and
one or two user/assistant exchanges answered only from the sources.  The
phrasing of each question is drawn by a random generator seeded from the
config seed and the item's key (sha256, not Python's hash), so an item's
text does not depend on which other items are built (--limit slices give
the same conversations as the full run for the words they keep).

The held-out split is by headword: a word whose sha256 bucket is below
heldout_percent goes to valid.jsonl with all its conversations, so
held-out words are never seen as headwords in training.  Man-page and
help conversations are all in train.jsonl (the model must know them all).

Output (in --out): train.jsonl.gz, valid.jsonl.gz (one {"id", "kind",
"text"} object per line, "text" the ChatML conversation; gzip without
name or time stamp, so equal input gives equal files) and manifest.json
with counts, sizes and sha256 sums of the uncompressed text, the
wordnet-base version and the settings.
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys

import config

WORDNET = "/usr/share/wordnet"
POS_FILES = [("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv")]
POS_NAME = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective",
            "r": "adverb"}
MAX_SENSES = 4
MAX_ANSWER = 900


def stable_int(*parts):
    """A 64-bit integer from sha256 of PARTS (stable across runs)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode())
    return int.from_bytes(h.digest()[:8], "big")


def rng_for(seed, key):
    return random.Random(stable_int(seed, key))


def chatml(turns):
    """Render [(role, text), ...] as ChatML (system prompt first)."""
    out = [config.IM_START + "system\n" + config.SYSTEM_PROMPT +
           config.IM_END + "\n"]
    for role, text in turns:
        out.append(config.IM_START + role + "\n" + text + config.IM_END +
                   "\n")
    return "".join(out)


# --- WordNet -------------------------------------------------------------

class WordNet:
    """Index and data files of one WordNet installation."""

    def __init__(self, root):
        self.root = root
        self.data = {}
        self.index = {}  # lemma -> [(pos, [offsets])]
        self.tagcount = {}  # lemma -> tagsense_cnt summed over parts
        self.freq = {}  # lemma -> cntlist.rev tag counts, summed
        self.cache = {}
        for pos, name in POS_FILES:
            with open(os.path.join(root, "data." + name), "rb") as f:
                self.data[pos] = f.read()
            self._read_index(pos, os.path.join(root, "index." + name))
        self._read_cntlist(os.path.join(root, "cntlist.rev"))

    def _read_cntlist(self, path):
        """cntlist.rev: "SENSE_KEY SENSE_NUMBER TAG_CNT" per line, how
        often each sense was tagged in the semantic concordances; a
        lemma's frequency is the sum over its senses."""
        try:
            f = open(path, encoding="utf-8")
        except OSError as e:
            raise SystemExit("corpus: %s: %s" % (path, e.strerror))
        with f:
            for lineno, line in enumerate(f, 1):
                fields = line.split()
                try:
                    if len(fields) != 3 or "%" not in fields[0]:
                        raise ValueError("expected 'KEY NUMBER COUNT'")
                    lemma = fields[0].split("%", 1)[0].lower()
                    cnt = int(fields[2])
                except ValueError as e:
                    raise SystemExit("%s:%d: bad line (%s): %r" %
                                     (path, lineno, e, line[:80]))
                self.freq[lemma] = self.freq.get(lemma, 0) + cnt

    def _read_index(self, pos, path):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.startswith("  "):
                    continue  # the licence header
                fields = line.split()
                try:
                    lemma, p_cnt = fields[0], int(fields[3])
                    synset_cnt = int(fields[2])
                    tagged = int(fields[5 + p_cnt])
                    offs = fields[6 + p_cnt:]
                    if len(offs) != synset_cnt:
                        raise ValueError("%d offsets, synset_cnt %d" %
                                         (len(offs), synset_cnt))
                    offs = [int(o) for o in offs]
                except (IndexError, ValueError) as e:
                    raise SystemExit("%s:%d: bad index line (%s): %r" %
                                     (path, lineno, e, line[:80]))
                self.index.setdefault(lemma, []).append((pos, offs))
                self.tagcount[lemma] = self.tagcount.get(lemma, 0) + tagged

    def synset(self, pos, off):
        """Parse the synset at byte offset OFF of data.POS (cached)."""
        key = (pos, off)
        if key in self.cache:
            return self.cache[key]
        buf = self.data[pos]
        end = buf.find(b"\n", off)
        line = buf[off:end].decode("utf-8")
        where = "%s/data.%s: offset %d" % (self.root, dict(POS_FILES)[pos],
                                           off)
        head, sep, gloss = line.partition(" | ")
        f = head.split()
        try:
            if int(f[0]) != off:
                raise ValueError("offset field %s" % f[0])
            ss_type = f[2]
            w_cnt = int(f[3], 16)
            words = []
            for i in range(w_cnt):
                w = f[4 + 2 * i]
                w = re.sub(r"\((a|p|ip)\)$", "", w)
                words.append(w.replace("_", " "))
            i = 4 + 2 * w_cnt
            p_cnt = int(f[i])
            ptrs = []
            for j in range(p_cnt):
                sym, t_off, t_pos, st = f[i + 1 + 4 * j:i + 5 + 4 * j]
                ptrs.append((sym, int(t_off), t_pos, int(st[:2], 16),
                             int(st[2:], 16)))
        except (IndexError, ValueError) as e:
            raise SystemExit("%s: bad synset (%s)" % (where, e))
        if not sep:
            raise SystemExit("%s: synset without a gloss" % where)
        definition, examples = parse_gloss(gloss)
        s = {"pos": ss_type, "words": words, "ptrs": ptrs,
             "definition": definition, "examples": examples}
        self.cache[key] = s
        return s

    def word_at(self, t_pos, t_off, num):
        pos = "a" if t_pos == "s" else t_pos
        return self.synset(pos, t_off)["words"][num - 1]


def parse_gloss(gloss):
    """Split a gloss into (definition, [example sentences])."""
    gloss = gloss.strip()
    examples = re.findall(r'"([^"]+)"', gloss)
    cut = gloss.find('"')
    definition = gloss if cut < 0 else gloss[:cut]
    definition = definition.strip().rstrip(";:, ").strip()
    examples = [e.strip() for e in examples if len(e.strip()) > 3]
    return definition, examples


def word_package_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}",
                              "wordnet-base"], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# --- phrasing helpers ----------------------------------------------------

def styled(rng, text):
    """Vary a question's surface: case of the first letter, final '?'."""
    r = rng.random()
    if r < 0.25:
        text = text[0].lower() + text[1:]
    if text.endswith("?") and rng.random() < 0.15:
        text = text[:-1]
    return text


def quoted(rng, w):
    r = rng.random()
    if r < 0.15:
        return '"%s"' % w
    if r < 0.25:
        return "'%s'" % w
    return w


def sentence(s):
    s = s.strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def article(word):
    return "an" if word[:1].lower() in "aeiou" else "a"


def join_list(items):
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- WordNet conversations -----------------------------------------------

DEFINE_Q = [
    "What does {w} mean?", "Define {w}.", "define {w}",
    "What is the meaning of {w}?", "What's the definition of {w}?",
    "Can you define {w} for me?", "Meaning of {w}?", "{w}?",
    "Explain the word {w}.", "What is {w}?", "I don't know the word {w}. "
    "What does it mean?", "Tell me what {w} means.",
    "Look up {w}, please.", "What do people mean by {w}?",
]
SYN_Q = [
    "Give me a synonym for {w}.", "What's another word for {w}?",
    "Synonyms of {w}?", "What is a synonym of {w}?",
    "Which words mean the same as {w}?", "Another word for {w}, please.",
    "Is there a different word for {w}?",
]
EX_Q = [
    "Use {w} in a sentence.", "Give me an example sentence with {w}.",
    "How do you use {w} in a sentence?", "Show me {w} in a sentence.",
    "Can you use the word {w} in a sentence?", "Example of {w}?",
]
POS_Q = [
    "What part of speech is {w}?", "Is {w} a noun or a verb?",
    "Is {w} a noun?", "What kind of word is {w}?",
    "Which part of speech is the word {w}?",
]
ANT_Q = [
    "What is the opposite of {w}?", "Give me an antonym for {w}.",
    "What's the antonym of {w}?", "Opposite of {w}?",
]
KIND_Q = [
    "What kind of thing is {a} {w}?", "{A} {w} is a kind of what?",
    "What category does {w} belong to?", "Is {a} {w} a type of something?",
]
FOLLOW_SYN = ["And a synonym?", "Any synonyms?", "Another word for it?"]
FOLLOW_EX = ["Use it in a sentence.", "Can you give an example?",
             "How would I use it?"]


class WordItems:
    """Builds the conversations about one headword."""

    def __init__(self, wn, lemma, entries, seed):
        self.wn = wn
        self.lemma = lemma
        self.rng = rng_for(seed, "wn:" + lemma)
        self.senses = []  # (pos letter for display, synset)
        for pos, offs in entries:
            for off in offs:
                self.senses.append(wn.synset(pos, off))
        self.word = self._display(lemma)

    def _display(self, lemma):
        want = lemma.replace("_", " ")
        for s in self.senses:
            for w in s["words"]:
                if w.lower() == want:
                    return w
        return want

    def define(self):
        w, senses = self.word, self.senses[:MAX_SENSES]
        if len(senses) == 1:
            s = senses[0]
            return "%s (%s): %s" % (w, POS_NAME[s["pos"]],
                                    sentence(s["definition"]))
        lines = ["%s has %d meanings%s:" %
                 (w, len(self.senses),
                  "" if len(self.senses) <= MAX_SENSES else
                  ", the most common are")]
        for i, s in enumerate(senses, 1):
            lines.append("%d. (%s) %s" % (i, POS_NAME[s["pos"]],
                                          sentence(s["definition"])))
        return "\n".join(lines)

    def synonyms(self):
        for s in self.senses:
            others = [x for x in s["words"]
                      if x.lower() != self.word.lower()]
            seen = []
            for x in others:
                if x.lower() not in [y.lower() for y in seen]:
                    seen.append(x)
            if seen:
                return "%s, in the sense \"%s\": %s." % (
                    self.word, s["definition"], join_list(seen[:5]))
        return None

    def example(self):
        want = self.word.lower().split()[0][:4]
        for s in self.senses:
            for e in s["examples"]:
                if want in e.lower():
                    return "%s\n(%s: %s)" % (sentence(e), POS_NAME[s["pos"]],
                                            s["definition"])
        return None

    def parts_of_speech(self):
        counts = {}
        for s in self.senses:
            p = POS_NAME[s["pos"]]
            counts[p] = counts.get(p, 0) + 1
        parts = ["%s %s (%d sense%s)" % (article(p), p, n,
                                         "" if n == 1 else "s")
                 for p, n in counts.items()]
        return "%s is used as %s." % (self.word, join_list(parts))

    def antonym(self):
        want = self.word.lower()
        for s in self.senses:
            for sym, t_off, t_pos, src, tgt in s["ptrs"]:
                if sym != "!" or src == 0 or tgt == 0:
                    continue
                if s["words"][src - 1].lower() != want:
                    continue
                ant = self.wn.word_at(t_pos, t_off, tgt)
                return "The opposite of %s is %s." % (self.word, ant)
        return None

    def kind(self):
        for s in self.senses:
            if s["pos"] != "n":
                continue
            for sym, t_off, t_pos, _, _ in s["ptrs"]:
                if sym in ("@", "@i"):
                    hyper = self.wn.synset("n", t_off)
                    h = hyper["words"][0]
                    return "%s %s is a kind of %s: %s" % (
                        article(self.word).capitalize(), self.word, h,
                        sentence(s["definition"]))
            return None
        return None

    def question(self, templates):
        t = self.rng.choice(templates)
        w = quoted(self.rng, self.word)
        a = article(self.word)
        return styled(self.rng, t.format(w=w, a=a, A=a.capitalize()))

    def items(self, per_word):
        """Up to PER_WORD (kind, turns) conversations."""
        rng = self.rng
        cands = [("define", DEFINE_Q, self.define())]
        for kind, qs, ans in (("synonym", SYN_Q, self.synonyms()),
                              ("example", EX_Q, self.example()),
                              ("antonym", ANT_Q, self.antonym()),
                              ("kind", KIND_Q, self.kind()),
                              ("pos", POS_Q, self.parts_of_speech())):
            if ans is not None:
                cands.append((kind, qs, ans))
        first, rest = cands[0], cands[1:]
        rng.shuffle(rest)
        chosen = [first] + rest[:per_word - 1]
        out = []
        for kind, qs, ans in chosen:
            turns = [("user", self.question(qs)), ("assistant", ans)]
            if kind == "define" and rng.random() < 0.3:
                syn, ex = self.synonyms(), self.example()
                if syn is not None and rng.random() < 0.5:
                    turns += [("user", rng.choice(FOLLOW_SYN)),
                              ("assistant", syn)]
                elif ex is not None:
                    turns += [("user", rng.choice(FOLLOW_EX)),
                              ("assistant", ex)]
            out.append((kind, turns))
        return out


# --- man pages -------------------------------------------------------------

def render_man(path):
    """The page as plain text lines (mandoc, overstrike removed)."""
    try:
        out = subprocess.run(["mandoc", "-T", "utf8", "-O", "width=78",
                              path], capture_output=True, check=True)
    except FileNotFoundError:
        raise SystemExit("corpus: mandoc not found (apt-get install mandoc)")
    except subprocess.CalledProcessError as e:
        raise SystemExit("corpus: mandoc %s: %s" % (path, e.stderr.decode()))
    text = re.sub(r".\x08", "", out.stdout.decode("utf-8"))
    lines = text.split("\n")
    # drop the header and footer lines
    while lines and not lines[-1].strip():
        lines.pop()
    return lines[1:-1]


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


def reflow(lines):
    """Paragraph text: lines joined, indentation and hyphen breaks kept
    as in the rendering (display blocks keep their line breaks)."""
    paras, cur = [], []
    for ln in lines:
        if not ln.strip():
            if cur:
                paras.append(cur)
                cur = []
            continue
        cur.append(ln)
    if cur:
        paras.append(cur)
    out = []
    for p in paras:
        base = min(indent_of(x) for x in p)
        if all(indent_of(x) == base for x in p):
            text = ""
            for x in p:
                x = x.strip()
                if text and not text.endswith("-"):
                    text += " "
                text += x
            out.append(re.sub(r"(\S)  +", r"\1 ", text))
        else:
            out.append("\n".join(x[base:].rstrip() for x in p))
    return out


def clip(paras, limit=MAX_ANSWER):
    """Whole paragraphs up to LIMIT characters (at least the first,
    cut at a sentence end when it alone is too long)."""
    out = ""
    for p in paras:
        cand = p if not out else out + "\n" + p
        if len(cand) > limit:
            if not out:
                cut = p.rfind(". ", 0, limit)
                if cut > 0:
                    out = p[:cut + 1]
                else:
                    cut = max(p.rfind("; ", 0, limit), p.rfind(", ", 0,
                                                              limit))
                    out = (p[:cut] if cut > 0 else p[:limit]) + " ..."
            break
        out = cand
    return out


class ManEntry:
    def __init__(self, page, section, term, parents, body, synopses):
        self.page, self.section, self.term = page, section, term
        self.parents, self.body = parents, body
        self.synopses = synopses  # other usage lines of the same item


INLINE_TAG = re.compile(r"^(\S.*?\S|\S)  +(\S.*)$")


def is_term_line(lines, i, ind):
    """Whether line I (indent IND) heads a tagged item: short, not a
    sentence, with the next line indented deeper."""
    s = lines[i].strip()
    if i + 1 >= len(lines) or not lines[i + 1].strip():
        return False
    if indent_of(lines[i + 1]) <= ind or s.startswith("$"):
        return False
    m = INLINE_TAG.match(s)
    if m:
        s = m.group(1)
        if re.match(r"^(\d+\.|•|-|–)$", s):
            return False
    wrapped = s.count("[") > s.count("]")
    return (len(s) < 70 or wrapped) and not s.endswith(".")


def looks_like_tag(s):
    return len(s) < 80 and not s.endswith((".", ":")) and \
        not s.startswith("$")


def parse_block(page, section, lines, parents, out):
    """Collect the tagged items of LINES (recursively).  A tag with its
    body on the same line ("--json  Print the same...") is split; a tag
    wrapped inside brackets takes its continuation lines; a short line
    alone just before a tag is a second synopsis of the same item."""
    i, pending = 0, []
    while i < len(lines):
        ln = lines[i]
        if not ln.strip():
            i += 1
            continue
        ind = indent_of(ln)
        if not is_term_line(lines, i, ind):
            alone = (i + 1 >= len(lines) or not lines[i + 1].strip())
            if alone and looks_like_tag(ln.strip()) and \
                    (not pending or pending[1] == ind):
                pending = (pending[0] if pending else []) + [ln.strip()], ind
            else:
                pending = []
            i += 1
            continue
        term = ln.strip()
        k = i + 1
        while term.count("[") > term.count("]") and k < len(lines):
            term += " " + lines[k].strip()
            k += 1
        body_start = k
        while k < len(lines) and (not lines[k].strip() or
                                  indent_of(lines[k]) > ind):
            k += 1
        body = lines[body_start:k]
        m = INLINE_TAG.match(term)
        if m:
            term = m.group(1)
            body = [" " * indent_of(lines[i + 1]) + m.group(2)] + body
        synopses = []
        if pending and pending[1] == ind:
            synopses = pending[0]
        pending = []
        out.append(ManEntry(page, section, term, parents, body, synopses))
        parse_block(page, section, body, parents + [term], out)
        i = k


def parse_man(path):
    """(page name, one-line description, sections, entries) of a page."""
    lines = render_man(path)
    page = os.path.basename(path)
    name, sect = page.rsplit(".", 1)
    sections, cur = [], None
    for ln in lines:
        if ln and not ln.startswith(" ") and re.match(r"^[A-Z][A-Z0-9 ,/'()-]*$",
                                                      ln):
            cur = (ln.strip(), [])
            sections.append(cur)
        elif cur is not None:
            cur[1].append(ln)
    desc = ""
    entries = []
    for title, body in sections:
        if title == "NAME":
            desc = " ".join(x.strip() for x in body if x.strip())
            continue
        parse_block("%s(%s)" % (name, sect), title, body, [], entries)
    return "%s(%s)" % (name, sect), name, desc, sections, entries


KEY_RE = re.compile(r"^(Ctrl|Alt|Meta|Shift|Esc|Enter|Return|Tab|F\d|Up|Down|"
                    r"Left|Right|Page|Home|End|Backspace|Delete|Insert|M-|"
                    r"C-|\^)")


def entry_questions(e):
    """(name, question templates) for a man-page item, by what it is;
    None for items that make no question (numbers, example commands)."""
    term = e.term
    head = re.split(r"[ (\[,]", term)[0]
    parent = e.parents[-1] if e.parents else ""
    phead = parent.split()[0] if parent else ""
    command = e.page == "vkchat(1)" and e.section == "DESCRIPTION"
    if re.match(r"^[\d.]+$", head) or term.endswith("\\") or \
            head == "vkchat":
        return None
    if head.startswith("-"):
        ctx = "vkchat %s" % phead if command and \
            re.match(r"^[a-z]+$", phead) else "vkchat"
        return head, [
            "What does %s do in %s?" % (head, ctx),
            "What is the %s option of %s?" % (head, ctx),
            "Explain %s %s." % (ctx, head),
            "How do I use %s with %s?" % (head, ctx),
        ]
    if head.startswith("/"):
        return head, [
            "What does %s do in the chat?" % head,
            "What is the %s command in the vkchat chat screen?" % head,
            "How do I use %s?" % head,
        ]
    if KEY_RE.match(head) or parent == "Keys" or \
            (len(head) == 1 and parent.startswith("The ")):
        where = parent.lower() if parent.startswith("The ") else "the chat"
        return term, [
            "What does %s do in %s?" % (term, where),
            "What happens when I press %s in %s?" % (term, where),
            "Explain the key %s in %s." % (term, where),
        ]
    if command and not e.parents and re.match(r"^[a-z]+$", head):
        return head, [
            "What does vkchat %s do?" % head,
            "What is the %s command?" % head,
            "Explain vkchat %s." % head,
            "What is vkchat %s for?" % head,
            "How does the %s command work?" % head,
        ]
    if command and re.match(r"^[a-z]+$", head) and \
            re.match(r"^[a-z]+$", phead):
        name = "vkchat %s %s" % (phead, head)
        return name, [
            "What does %s do?" % name,
            "How do I use %s?" % name,
            "Explain %s." % name,
        ]
    if "PARAMETER" in e.section or parent == "Parameters":
        return head, [
            "What is %s?" % head,
            "What does the %s setting do?" % head,
            "Explain %s in sampling." % head,
            "How does %s work in vkchat?" % head,
            "What is the default %s?" % head,
        ]
    if "PRESET" in e.section.upper() or parent == "Built-in presets":
        return head, [
            "What is the %s preset?" % head,
            "What does the built-in preset %s do?" % head,
            "Which settings does the %s preset use?" % head,
        ]
    if e.section == "ENVIRONMENT":
        return term, [
            "What is the environment variable %s for?" % head,
            "What does %s do in vkchat?" % head,
        ]
    return term, [
        "What is %s in vkchat?" % term,
        "Tell me about %s." % term,
        "Explain %s (%s)." % (term, e.page),
    ]


def man_items(paths, repeat, seed):
    """(key, kind, turns) conversations from the man pages."""
    items = []
    for path in paths:
        page, name, desc, sections, entries = parse_man(path)
        if desc:
            about = "%s: %s\nRead it with: man %s" % (page, desc.split(" – ", 1)[-1] if " – " in desc else desc, name)
            qs = ["What is the man page %s about?" % name,
                  "What does man %s explain?" % name,
                  "Tell me about %s." % page]
            items.append(("man:%s:NAME" % name, "man", qs, about))
        for title, body in sections:
            if title in ("NAME", "SYNOPSIS", "SEE ALSO", "AUTHORS"):
                continue
            paras = reflow([x for x in body
                            if indent_of(x) <= 5 or not x.strip()])
            paras = [p for p in paras if len(p) > 40]
            if not paras:
                continue
            ans = clip(paras)
            t = title.lower()
            qs = ["What does %s say about %s?" % (page, t),
                  "Explain %s in vkchat." % t,
                  "Tell me about %s (man %s)." % (t, name)]
            items.append(("man:%s:%s" % (name, title), "man", qs, ans))
        for e in entries:
            paras = reflow(e.body)
            if not paras:
                continue
            kq = entry_questions(e)
            if kq is None:
                continue
            usage = "\n".join(e.synopses + [e.term])
            ans = "%s\n%s" % (usage, clip(paras, MAX_ANSWER - len(usage)))
            qs = kq[1]
            items.append(("man:%s:%s:%s:%s" % (name, e.section,
                                              "/".join(e.parents), e.term),
                          "man", qs, ans))
    return expand(items, repeat, seed)


def expand(items, repeat, seed):
    """REPEAT conversations per (key, kind, questions, answer) item."""
    out = []
    seen = {}
    for key, kind, qs, ans in items:
        # the same term twice in one section (a page's examples) keeps
        # its place in the order: key, key~2, key~3 ...
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = "%s~%d" % (key, seen[key])
        # text about the chat format itself would be read as the special
        # tokens when tokenized: leave such items out
        if "<|" in ans or any("<|" in q for q in qs):
            continue
        rng = rng_for(seed, key)
        for r in range(repeat):
            q = styled(rng, rng.choice(qs))
            out.append(("%s#%d" % (key, r), kind,
                        [("user", q), ("assistant", ans)]))
    return out


# --- --help text ------------------------------------------------------------

def run_help(vkchat, args, required=True):
    """The usage text of 'vkchat ARGS'; None for a command without one
    (help, version) unless REQUIRED."""
    try:
        p = subprocess.run([vkchat] + args, capture_output=True, text=True,
                           timeout=30)
    except OSError as e:
        raise SystemExit("corpus: cannot run %s: %s" % (vkchat, e))
    text = (p.stdout + p.stderr).strip("\n")
    if p.returncode != 0 or not text.startswith("usage:"):
        if not required:
            return None
        raise SystemExit("corpus: '%s %s' failed (status %d): %s" %
                         (vkchat, " ".join(args), p.returncode, text[:200]))
    return text


def help_items(vkchat, repeat, seed):
    top = run_help(vkchat, ["--help"])
    cmds = []
    in_cmds = False
    for ln in top.split("\n"):
        if ln.startswith("commands:"):
            in_cmds = True
            continue
        m = re.match(r"^  ([a-z]+)\s+(.*)$", ln) if in_cmds else None
        if m:
            cmds.append((m.group(1), m.group(2)))
        elif in_cmds and ln.strip() == "":
            in_cmds = False
    if not cmds:
        raise SystemExit("corpus: no command list in '%s --help'" % vkchat)
    items = [("help:top", "help",
              ["What commands does vkchat have?", "vkchat --help",
               "How do I use vkchat?", "List the vkchat commands.",
               "What can vkchat do?"], clip(top.split("\n\n"), 1400))]
    items.append(("help:list", "help",
                  ["Which commands are there?", "Show me vkchat's commands.",
                   "What are the subcommands of vkchat?"],
                  "\n".join("vkchat %s: %s" % c for c in cmds)))
    for cmd, what in cmds:
        items.append(("help:%s:what" % cmd, "help",
                      ["What does vkchat %s do, in short?" % cmd,
                       "In one line, what is vkchat %s?" % cmd],
                      "vkchat %s: %s." % (cmd, what)))
        text = run_help(vkchat, [cmd, "--help"], required=False)
        if text is None:
            continue
        items.append(("help:%s" % cmd, "help",
                      ["Show me the usage of vkchat %s." % cmd,
                       "What options does vkchat %s take?" % cmd,
                       "vkchat %s --help" % cmd,
                       "What are the options of vkchat %s?" % cmd],
                      clip(text.split("\n\n"), 1400)
                      if len(text) > 1400 else text))
        for ln in text.split("\n"):
            m = re.match(r"^\s+(-[-\w]+(?:, -[-\w]+)?(?: [A-Z:]+)?)\s{2,}(\S.*)$",
                         ln)
            if not m:
                continue
            opt, desc = m.group(1), m.group(2)
            name = opt.split(",")[-1].split()[0] if "," in opt else \
                opt.split()[0]
            items.append(("help:%s:%s" % (cmd, opt), "help",
                          ["What does %s mean in vkchat %s?" % (name, cmd),
                           "vkchat %s %s?" % (cmd, name),
                           "What is the %s option of vkchat %s for?" %
                           (name, cmd)],
                          "%s (vkchat %s): %s." % (opt, cmd,
                                                   desc.rstrip("."))))
    return expand(items, repeat, seed)


# --- small talk ---------------------------------------------------------------

SMALL_TALK = [
    ("greeting", ["Hello", "Hi", "hi!", "Hello there.", "Good morning",
                  "Hey"],
     "Hello! I am vkchat's pocket dictionary. Ask me what a word means, "
     "for a synonym or an example, or about vkchat's commands."),
    ("identity", ["Who are you?", "What are you?", "What is your name?",
                  "Are you a real language model?"],
     "I am the pocket dictionary that comes with vkchat: a very small "
     "language model trained on WordNet and on vkchat's own manual. For "
     "real conversations, run vkchat with a larger GGUF model: vkchat -m "
     "model.gguf."),
    ("abilities", ["What can you do?", "How can you help me?",
                   "What do you know?", "help"],
     "I can define English words, give synonyms, antonyms and example "
     "sentences, say which part of speech a word is, and explain vkchat's "
     "commands, options, keys and sampling settings."),
    ("thanks", ["Thanks!", "Thank you.", "thanks", "Great, thanks."],
     "You're welcome. Ask me about another word whenever you like."),
    ("how", ["How are you?", "How are you doing?", "How is it going?"],
     "I am fine, thank you. Which word shall I explain?"),
    ("bye", ["Bye", "Goodbye!", "See you later.", "bye"],
     "Goodbye! Type /quit or press Ctrl-C at the prompt to leave vkchat."),
    ("bigger", ["How do I use a bigger model?", "Can I chat with another "
                "model?", "How do I load my own GGUF file?"],
     "Download a GGUF model file and start vkchat with it: vkchat -m "
     "model.gguf. vkchat remembers it, so the next plain vkchat opens it "
     "again. See man vkchat for details."),
]


def small_talk_items(repeat, seed):
    items = [("talk:" + k, "talk", qs, a) for k, qs, a in SMALL_TALK]
    return expand(items, repeat, seed)


# --- driver -------------------------------------------------------------------

def headwords(wn, cfg, limit, seed):
    """The config's headwords, most frequent first for rank "frequency":
    how often the word's senses were tagged in WordNet's semantic
    concordances (cntlist.rev), then how many of its senses were
    (index.*: tagsense_cnt), then a stable hash, so the slice is stable
    and not alphabetical; otherwise a stable hash order."""
    lemmas = sorted(wn.index)
    if cfg.get("rank") == "frequency":
        lemmas.sort(key=lambda l: (-wn.freq.get(l, 0), -wn.tagcount[l],
                                   stable_int(seed, l)))
    else:
        lemmas.sort(key=lambda l: stable_int(seed, l))
    return lemmas[:limit] if limit else lemmas


def build(args):
    cfg = config.get(args.config)
    limit = args.limit if args.limit is not None else cfg["limit"]
    seed = cfg["seed"]
    wn = WordNet(args.wordnet)
    lemmas = sorted(headwords(wn, cfg, limit, seed))
    train, valid = [], []
    counts = {}
    for lemma in lemmas:
        held = stable_int("heldout", lemma) % 100 < cfg["heldout_percent"]
        wi = WordItems(wn, lemma, wn.index[lemma], seed)
        for n, (kind, turns) in enumerate(wi.items(cfg["per_word"])):
            rec = {"id": "wn:%s:%d" % (lemma, n), "kind": kind,
                   "text": chatml(turns)}
            (valid if held else train).append(rec)
            counts[kind] = counts.get(kind, 0) + 1
    man_dir = args.man
    pages = sorted(os.path.join(man_dir, f) for f in os.listdir(man_dir)
                   if re.match(r".*\.[157]$", f))
    extra = man_items(pages, cfg["man_repeat"], seed)
    if args.vkchat:
        extra += help_items(args.vkchat, cfg["man_repeat"], seed)
    # small talk is a handful of answers a user meets first: repeat it
    # far more than a man-page item, or a small model answers "Hello"
    # with a definition
    extra += small_talk_items(cfg.get("talk_repeat",
                                      max(2, cfg["man_repeat"])), seed)
    for key, kind, turns in extra:
        train.append({"id": key, "kind": kind, "text": chatml(turns)})
        counts[kind] = counts.get(kind, 0) + 1
    # a fixed shuffle, so training order does not follow the alphabet
    rng = random.Random(seed)
    rng.shuffle(train)
    os.makedirs(args.out, exist_ok=True)
    files = {}
    for name, recs in (("train.jsonl.gz", train), ("valid.jsonl.gz", valid)):
        data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) +
                       "\n" for r in recs).encode("utf-8")
        # gzip with no name and time 0: the same input, the same file
        with open(os.path.join(args.out, name), "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                               mtime=0, compresslevel=6) as f:
                f.write(data)
        files[name] = {"conversations": len(recs), "bytes": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "config": args.config,
        "seed": seed,
        "limit": limit,
        "rank": cfg.get("rank", "hash"),
        "per_word": cfg["per_word"],
        "man_repeat": cfg["man_repeat"],
        "heldout_percent": cfg["heldout_percent"],
        "system_prompt": config.SYSTEM_PROMPT,
        "headwords": len(lemmas),
        "heldout_headwords": sum(1 for l in lemmas if
                                 stable_int("heldout", l) % 100 <
                                 cfg["heldout_percent"]),
        "kinds": dict(sorted(counts.items())),
        "files": files,
        "sources": {
            "wordnet": args.wordnet,
            "wordnet-base": word_package_version(),
            "man_pages": [os.path.basename(p) for p in pages],
            "vkchat_help": bool(args.vkchat),
        },
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


TURN_RE = re.compile(r"<\|im_start\|>(system|user|assistant)\n(.*?)"
                     r"<\|im_end\|>\n", re.S)


def verify(out):
    """Check a corpus directory against its manifest: counts and sha256
    of each file, every conversation well-formed ChatML (the system
    prompt, then user/assistant turns, no stray special tokens), ids
    unique, and no held-out headword in train.jsonl.gz."""
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    heads = {}
    for name, want in sorted(manifest["files"].items()):
        path = os.path.join(out, name)
        with gzip.open(path, "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != want["sha256"] or \
                len(data) != want["bytes"]:
            raise SystemExit("%s: does not match the manifest" % path)
        lines = data.decode("utf-8").split("\n")
        if lines[-1] != "":
            raise SystemExit("%s: no final newline" % path)
        lines.pop()
        if len(lines) != want["conversations"]:
            raise SystemExit("%s: %d conversations, manifest says %d" %
                             (path, len(lines), want["conversations"]))
        ids = set()
        for n, line in enumerate(lines, 1):
            rec = json.loads(line)
            where = "%s: line %d (%s)" % (path, n, rec.get("id"))
            text = rec["text"]
            turns = TURN_RE.findall(text)
            if "".join(config.IM_START + r + "\n" + t + config.IM_END +
                       "\n" for r, t in turns) != text:
                raise SystemExit("%s: not ChatML" % where)
            roles = [r for r, _ in turns]
            if roles[0] != "system" or \
                    turns[0][1] != config.SYSTEM_PROMPT or \
                    len(roles) < 3 or len(roles) % 2 != 1 or \
                    roles[1:] != ["user", "assistant"] * (len(roles) // 2):
                raise SystemExit("%s: bad turns %s" % (where, roles))
            for _, t in turns:
                if "<|" in t or not t.strip():
                    raise SystemExit("%s: empty turn or special text" %
                                     where)
            if rec["id"] in ids:
                raise SystemExit("%s: duplicate id" % where)
            ids.add(rec["id"])
            if rec["id"].startswith("wn:"):
                heads.setdefault(name, set()).add(rec["id"].split(":")[1])
    train = heads.get("train.jsonl.gz", set())
    valid = heads.get("valid.jsonl.gz", set())
    if train & valid:
        raise SystemExit("%s: held-out headwords in training: %s" %
                         (out, sorted(train & valid)[:5]))
    return manifest


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="pocket")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--verify", action="store_true",
                    help="check the corpus in --out instead of building")
    ap.add_argument("--limit", type=int, default=None,
                    help="keep N headwords (0: all; default: the config's)")
    ap.add_argument("--wordnet", default=WORDNET)
    ap.add_argument("--man", default=os.path.join(here, "..", "..", "man"))
    ap.add_argument("--vkchat", help="a built vkchat binary (--help text)")
    args = ap.parse_args()
    if args.verify:
        m = verify(args.out)
        print("corpus: %s is well-formed (%d headwords)" %
              (args.out, m["headwords"]), file=sys.stderr)
        return
    if not os.path.isfile(os.path.join(args.wordnet, "index.noun")):
        raise SystemExit("corpus: no WordNet in %s (apt-get install "
                         "wordnet-base)" % args.wordnet)
    m = build(args)
    print("corpus: %d headwords (%d held out), train %d, valid %d "
          "conversations" % (m["headwords"], m["heldout_headwords"],
                             m["files"]["train.jsonl.gz"]["conversations"],
                             m["files"]["valid.jsonl.gz"]["conversations"]),
          file=sys.stderr)


if __name__ == "__main__":
    main()
