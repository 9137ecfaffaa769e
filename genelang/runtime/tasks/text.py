"""Text tasks over word sequences: classification, language modelling, NER.

Word vectors come through gensim (`KeyedVectors`, word2vec text/binary or
GloVe) or are trained with gensim's Word2Vec on the training split. Bundled
defaults use gensim's test data (no download): `pang_lee_polarity.cor` with
`pang_lee_polarity_fasttext.vec` for classification and the shortened
Wikipedia dump for language modelling. CoNLL-2003 is read from a user path.
"""
from __future__ import annotations

import bz2
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genelang.errors import DataError
from genelang.runtime.tasks import register_task

PAD, UNK = "<pad>", "<unk>"


@dataclass
class TextData:
    kind: str                                   # "classify" | "lm" | "tag"
    vocab: list[str]
    train: tuple[torch.Tensor, ...]             # (tokens [N,T], lengths [N], targets)
    val: tuple[torch.Tensor, ...]
    test: tuple[torch.Tensor, ...]
    num_classes: int
    labels: list[str]
    embeddings: torch.Tensor | None = None
    name: str = ""


def _gensim_data(name: str) -> Path:
    from gensim.test.utils import datapath
    return Path(datapath(name))


def _tokenize(text: str) -> list[str]:
    return text.lower().split()


def build_vocab(sentences: list[list[str]], min_count: int = 1, max_size: int | None = None) -> list[str]:
    counts = Counter(w for s in sentences for w in s)
    words = [w for w, c in counts.most_common(max_size) if c >= min_count]
    return [PAD, UNK] + sorted(words, key=lambda w: (-counts[w], w))


def encode(sentences: list[list[str]], vocab: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    index = {w: i for i, w in enumerate(vocab)}
    x = torch.zeros(len(sentences), max_len, dtype=torch.long)
    lengths = torch.zeros(len(sentences), dtype=torch.long)
    for i, s in enumerate(sentences):
        ids = [index.get(w, 1) for w in s[:max_len]] or [1]
        x[i, : len(ids)] = torch.tensor(ids)
        lengths[i] = len(ids)
    return x, lengths


def load_vectors(path: str | Path, vocab: list[str], seed: int = 0) -> torch.Tensor:
    """Rows for `vocab` from a word2vec (text or binary) or GloVe file; unknown words random."""
    from gensim.models import KeyedVectors
    p = Path(path)
    if not p.exists():
        raise DataError.at("data", "word vectors not found", str(p))
    try:
        if p.suffix == ".bin":
            kv = KeyedVectors.load_word2vec_format(str(p), binary=True, unicode_errors="ignore")
        else:
            with open(p, encoding="utf-8", errors="ignore") as f:
                first = f.readline().split()
            glove = not (len(first) == 2 and all(t.isdigit() for t in first))
            kv = KeyedVectors.load_word2vec_format(str(p), binary=False, no_header=glove,
                                                   unicode_errors="ignore")
    except (ValueError, UnicodeDecodeError, EOFError) as err:
        raise DataError.at("data", f"cannot read word vectors: {err}", str(p)) from None
    return _matrix(kv, vocab, seed)


def train_vectors(sentences: list[list[str]], vocab: list[str], dim: int = 50, seed: int = 0) -> torch.Tensor:
    """Word2Vec on the training split (seconds on small corpora)."""
    from gensim.models import Word2Vec
    w2v = Word2Vec(sentences, vector_size=dim, min_count=1, workers=1, seed=seed, epochs=10)
    return _matrix(w2v.wv, vocab, seed)


def _matrix(kv, vocab: list[str], seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.1, (len(vocab), kv.vector_size)).astype(np.float32)
    m[0] = 0
    for i, w in enumerate(vocab):
        if w in kv.key_to_index:
            m[i] = kv[w]
    return torch.from_numpy(m)


def _split3(n: int, seed: int, val: float = 0.1, test: float = 0.1):
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val, n_test = max(1, int(n * val)), max(1, int(n * test))
    return perm[n_val + n_test:], perm[:n_val], perm[n_val:n_val + n_test]


def read_labelled(path: Path) -> tuple[list[list[str]], list[str]]:
    """fastText (`__label__X text`) or TSV (`label<TAB>text`) lines."""
    sents, labels = [], []
    for ln, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("__label__"):
            label, _, text = line.partition(" ")
            label = label[len("__label__"):]
        elif "\t" in line:
            label, _, text = line.partition("\t")
        else:
            raise DataError.at("data", "expected '__label__X text' or 'label<TAB>text'", str(path), line=ln,
                               col=1, end_col=len(line) + 1, source_line=line)
        sents.append(_tokenize(text))
        labels.append(label.strip())
    if not sents:
        raise DataError.at("data", "no labelled lines", str(path))
    return sents, labels


@register_task("text-classification", "sequence")
def text_classification(root: str | None = None, vectors: str | None = None, max_len: int = 48,
                        seed: int = 0, **_) -> TextData:
    """Labelled sentences from `root` (default: gensim's pang_lee_polarity.cor);
    vectors from `vectors` (default with the bundled data: its fastText vectors;
    otherwise Word2Vec trained on the training split)."""
    path = Path(root) if root else _gensim_data("pang_lee_polarity.cor")
    if not path.exists():
        raise DataError.at("data", "labelled text file not found", str(path),
                           hint="a file of '__label__X text' or 'label<TAB>text' lines")
    sents, labels = read_labelled(path)
    classes = sorted(set(labels))
    y = torch.tensor([classes.index(l) for l in labels])
    tr, va, te = _split3(len(sents), seed)
    vocab = build_vocab([sents[i] for i in tr])
    x, lengths = encode(sents, vocab, max_len)
    if vectors is None and root is None:
        vectors = str(_gensim_data("pang_lee_polarity_fasttext.vec"))
    emb = load_vectors(vectors, vocab, seed) if vectors else train_vectors([sents[i] for i in tr], vocab, seed=seed)
    part = lambda idx: (x[idx], lengths[idx], y[idx])
    return TextData("classify", vocab, part(tr), part(va), part(te), len(classes), classes, emb,
                    "text-classification")


def _wiki_tokens(limit: int) -> list[str]:
    path = _gensim_data("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    with bz2.open(path, "rt", encoding="utf-8", errors="ignore") as f:
        text = f.read()
    text = re.sub(r"<[^>]+>|\{\{[^}]*\}\}|\[\[(?:[^|\]]*\|)?([^\]]*)\]\]|&\w+;|[=*'\[\]{}|]", r" \1 ", text)
    words = re.findall(r"[a-z]+|[0-9]+|[.,;:!?()]", text.lower())
    return words[:limit]


def _lm_windows(ids: list[int], bptt: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = (len(ids) - 1) // bptt
    t = torch.tensor(ids[: n * bptt + 1])
    x = t[:-1].view(n, bptt)
    y = t[1:].view(n, bptt)
    return x, torch.full((n,), bptt), y


@register_task("lm", "sequence")
def language_model(root: str | None = None, bptt: int = 35, vocab_size: int = 10000,
                   max_tokens: int = 500_000, **_) -> TextData:
    """Word-level LM: ROOT/{train,valid,test}.txt in the PTB layout, or the
    bundled shortened Wikipedia dump split 80/10/10. Truncated BPTT windows."""
    if root:
        base = Path(root)
        parts = []
        for name in ("train.txt", "valid.txt", "test.txt"):
            p = base / name
            if not p.exists():
                raise DataError.at("data", f"missing {name}", str(base),
                                   hint="the PTB layout: train.txt, valid.txt, test.txt")
            parts.append(p.read_text(encoding="utf-8", errors="replace").replace("\n", " <eos> ").split())
    else:
        words = _wiki_tokens(max_tokens)
        a, b = int(len(words) * 0.8), int(len(words) * 0.9)
        parts = [words[:a], words[a:b], words[b:]]
    vocab = build_vocab([parts[0]], max_size=vocab_size - 2)
    index = {w: i for i, w in enumerate(vocab)}
    enc = [[index.get(w, 1) for w in p] for p in parts]
    tr, va, te = (_lm_windows(e, bptt) for e in enc)
    return TextData("lm", vocab, tr, va, te, len(vocab), [], None, "lm")


def read_conll(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    sents, tags, cur_w, cur_t = [], [], [], []
    for ln, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip() or line.startswith("-DOCSTART-"):
            if cur_w:
                sents.append(cur_w)
                tags.append(cur_t)
                cur_w, cur_t = [], []
            continue
        cols = line.split()
        if len(cols) < 2:
            raise DataError.at("data", "a CoNLL line needs a token and a tag", str(path), line=ln, col=1,
                               end_col=len(line) + 1, source_line=line)
        cur_w.append(cols[0].lower())
        cur_t.append(cols[-1])
    if cur_w:
        sents.append(cur_w)
        tags.append(cur_t)
    return sents, tags


@register_task("conll2003", "sequence")
def conll2003(root: str | None = None, vectors: str | None = None, max_len: int = 64, seed: int = 0,
              **_) -> TextData:
    """NER from ROOT/{train,valid,test}.txt in the CoNLL-2003 format (token ...
    tag per line, blank lines between sentences); BIO/IOB tags."""
    if not root:
        raise DataError.at("data", "conll2003 needs a data root", "root=",
                           hint="a directory with train.txt, valid.txt, test.txt in the CoNLL-2003 format")
    base = Path(root)
    parts = []
    for name in ("train.txt", "valid.txt", "test.txt"):
        if not (base / name).exists():
            raise DataError.at("data", f"missing {name}", str(base))
        parts.append(read_conll(base / name))
    labels = sorted({t for _, tags in parts for ts in tags for t in ts})
    vocab = build_vocab(parts[0][0])

    def enc(sents, tags):
        x, lengths = encode(sents, vocab, max_len)
        y = torch.full(x.shape, -100, dtype=torch.long)
        for i, ts in enumerate(tags):
            ids = [labels.index(t) for t in ts[:max_len]]
            y[i, : len(ids)] = torch.tensor(ids)
        return x, lengths, y

    emb = load_vectors(vectors, vocab, seed) if vectors else train_vectors(parts[0][0], vocab, seed=seed)
    return TextData("tag", vocab, enc(*parts[0]), enc(*parts[1]), enc(*parts[2]), len(labels), labels, emb,
                    "conll2003")


def entities(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entity spans (start, end, type) from BIO/IOB1 tags, as conlleval counts them."""
    spans, start, kind = set(), None, None
    for i, t in enumerate(tags + ["O"]):
        prefix, _, typ = t.partition("-")
        begins = prefix == "B" or (prefix == "I" and typ != kind)
        if start is not None and (t == "O" or begins):
            spans.add((start, i, kind))
            start, kind = None, None
        if prefix in ("B", "I") and start is None:
            start, kind = i, typ
    return spans


def entity_f1(gold: list[list[str]], pred: list[list[str]]) -> float:
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        ge, pe = entities(g), entities(p)
        tp += len(ge & pe)
        fp += len(pe - ge)
        fn += len(ge - pe)
    if tp == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)
