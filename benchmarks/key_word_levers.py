"""Other rankings for the fast key-word search, simulated on a ``key_word_cache.py`` cache (issue 21): each
replaces the first network's one-word-out ranking, in sentences of more than ``--after`` words, by a cheaper
score that picks the ``--top`` words the first network then ranks as now (the confirmation as now), and is
printed with its agreement with the cached key words and its network work (tokens) beside the rules of the
cache. The scores:

- ``grad``: gradient x input of the first network's label probability (sentence read alone; the first
  network mirrored in torch from the merged numpy weights, checked against it), summed over each word's
  tokens; its cost counted as a forward and a backward pass (3 sentences' tokens);
- ``reuse1``..``reuse3``: the sentence's states after layer l reused, each word's tokens dropped and the
  layers above recomputed (numpy), used directly as the ranking (cost: that share of the layers);
- ``tri``, ``pair``: the first network's label score of the word with its neighbours read alone (cost: their
  tokens).

    python benchmarks/key_word_levers.py /tmp/kw_meld.npz [--after 8] [--top 3]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from key_word_rules import Rule, load, same, simulate, skip_rule  # this folder is on sys.path

from emoreason.labels import CANONICAL
from emoreason.perception.text.numpy_bert import _MASKED, _gelu, _layer_norm, encode_texts, tokenizer
from emoreason.perception.text.sentence_encoder import normalise_text


def word_of_token(text: str, enc) -> np.ndarray:
    """Each token's whitespace-word index (-1: special or second-segment tokens)."""
    spans, pos = [], 0
    for w in text.split():
        pos = text.index(w, pos)
        spans.append((pos, pos + len(w)))
        pos += len(w)
    out = []
    for t, (a, _) in enumerate(enc.offsets):
        wi = -1
        if enc.type_ids[t] == 0 and not enc.special_tokens_mask[t]:
            wi = next((k for k, (s, e) in enumerate(spans) if s <= a < e), -1)
        out.append(wi)
    return np.asarray(out)


def grad_scores(lm, sentences: list[str], labels: list[int]) -> list[np.ndarray]:
    import torch

    w = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in lm.encoder.w.items()}
    c = lm.encoder.config
    hd = c.hidden // c.heads
    wc, bc = (torch.from_numpy(a) for a in lm.classifier)
    tok = tokenizer(lm.minilm_dir, 128)

    def ln(x, g, b):
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), g, b, c.eps)

    out = []
    for text, label in zip(sentences, labels):
        text = normalise_text(text)
        e = encode_texts(tok, [text], [""])[0]
        ids, types = torch.tensor([e.ids]), torch.tensor([e.type_ids])
        we = w["word"][ids].clone().requires_grad_(True)
        x = ln(we + w["position"][:ids.shape[1]][None] + w["type"][types], w["emb.ln.g"], w["emb.ln.b"])
        n, length = ids.shape
        for i in range(c.layers):
            qkv = (x @ w[f"{i}.qkv.w"] + w[f"{i}.qkv.b"]).reshape(n, length, 3, c.heads, hd)
            q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
            a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5, -1)
            ctx = (a @ v).transpose(1, 2).reshape(n, length, -1)
            att = ln(ctx @ w[f"{i}.ao.w"] + w[f"{i}.ao.b"] + x, w[f"{i}.ao.ln.g"], w[f"{i}.ao.ln.b"])
            inter = torch.nn.functional.gelu(att @ w[f"{i}.in.w"] + w[f"{i}.in.b"])
            x = ln(inter @ w[f"{i}.out.w"] + w[f"{i}.out.b"] + att, w[f"{i}.out.ln.g"], w[f"{i}.out.ln.b"])
        own = (types == 0).float()[..., None]
        p = torch.softmax(((x * own).sum(1) / own.sum(1) @ wc.T + bc) / lm.temperature, -1)
        g, = torch.autograd.grad(p[0, lm.labels.index(CANONICAL[label])], we)
        per_token = (g[0] * we[0]).sum(-1).detach().numpy()
        words = word_of_token(text, e)
        out.append(np.asarray([per_token[words == k].sum() for k in range(len(text.split()))]))
    return out


def reuse_scores(lm, sentences: list[str], labels: list[int], start: int) -> list[np.ndarray]:
    """Label probability of each word left out from layer ``start`` up (the whole sentence's lower states)."""
    bert, (wc, bc) = lm.encoder, lm.classifier
    c, w = bert.config, bert.w
    hd = c.hidden // c.heads
    tok = tokenizer(lm.minilm_dir, 128)

    def layer(i, x, mask):
        n, length, _ = x.shape
        bias = np.where(mask[:, None, None, :] > 0, np.float32(0), _MASKED)
        flat = x.reshape(n * length, c.hidden)
        qkv = (flat @ w[f"{i}.qkv.w"] + w[f"{i}.qkv.b"]).reshape(n, length, 3, c.heads, hd)
        q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        s = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(hd)) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(n * length, c.hidden)
        att = _layer_norm(ctx @ w[f"{i}.ao.w"] + w[f"{i}.ao.b"] + flat, w[f"{i}.ao.ln.g"], w[f"{i}.ao.ln.b"],
                          c.eps)
        inter = _gelu(np.ascontiguousarray(att @ w[f"{i}.in.w"] + w[f"{i}.in.b"]))
        return _layer_norm(inter @ w[f"{i}.out.w"] + w[f"{i}.out.b"] + att, w[f"{i}.out.ln.g"],
                           w[f"{i}.out.ln.b"], c.eps).reshape(n, length, -1)

    out = []
    for text, label in zip(sentences, labels):
        text = normalise_text(text)
        e = encode_texts(tok, [text], [""])[0]
        states = bert.hidden_states(np.array([e.ids]), np.array([e.attention_mask]), np.array([e.type_ids]))
        words, own0 = word_of_token(text, e), np.asarray(e.type_ids) == 0
        keeps = [np.flatnonzero(words != k) for k in range(len(text.split()))]
        length = max(len(k) for k in keeps)
        x = np.zeros((len(keeps), length, c.hidden), np.float32)
        mask, own = np.zeros((len(keeps), length), np.int64), np.zeros((len(keeps), length), np.float32)
        for r, kp in enumerate(keeps):
            x[r, :len(kp)], mask[r, :len(kp)], own[r, :len(kp)] = states[start][0, kp], 1, own0[kp]
        for i in range(start, c.layers):
            x = layer(i, x, mask)
        z = (((x * own[..., None]).sum(1) / own.sum(1, keepdims=True)) @ wc.T + bc).astype(np.float64)
        z = np.exp((z - z.max(1, keepdims=True)) / lm.temperature)
        out.append((z / z.sum(1, keepdims=True))[:, lm.labels.index(CANONICAL[label])])
    return out


def ngram_scores(model, sentences: list[str], labels: list[int], before: int, after: int) -> list[np.ndarray]:
    grams = [[" ".join(s.split()[max(0, k - before):k + after + 1]) for k in range(len(s.split()))]
             for s in sentences]
    distinct = list(dict.fromkeys(g for gs in grams for g in gs))
    p = dict(zip(distinct, model.key_word_proba(distinct)))
    return [np.asarray([p[g][label] for g in gs]) for gs, label in zip(grams, labels)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cache")
    ap.add_argument("--after", type=int, default=8)
    ap.add_argument("--top", type=int, nargs="+", default=[2, 3, 4])
    args = ap.parse_args()
    from emoreason.perception.text.analyzer import TextAnalyzer

    cases = load(args.cache)
    meta = json.loads(str(np.load(args.cache)["meta"]))
    model = TextAnalyzer().model
    lm = model.loras[0][0]
    sentences, labels = meta["sentences"], meta["labels"]
    base = sum(Rule().run(c)[1] for c in cases)
    scores = {"grad": (grad_scores(lm, sentences, labels), "prune", 3.0),
              "tri": (ngram_scores(model, sentences, labels, 1, 1), "prune", 2.2),
              "pair": (ngram_scores(model, sentences, labels, 0, 1), "prune", 1.7)}
    for start in (1, 2, 3):
        scores[f"reuse{start}"] = (reuse_scores(lm, sentences, labels, start), "rank", (6 - start) / 6)
    print(f"{args.cache}: {len(cases)} searched sentences; ranking replaced in sentences of more than "
          f"{args.after} words")
    for name, (per, how, cost) in scores.items():
        for top in args.top if how == "prune" else [None]:
            agree = tokens = 0
            for c, s in zip(cases, per):
                tried = skip_rule(c.words, 8)
                if len(c.words) <= args.after:
                    got, rank, confirm = simulate(c, tried, 2, 0.2)
                    extra = 0
                elif how == "prune":  # the score picks the words the first network ranks
                    extra = int(cost * (c.tokens.max() + 1 if name == "grad" else c.word_tokens[tried].sum()))
                    if len(tried) > top:
                        tried = sorted(tried[j] for j in np.argsort(-s[tried], kind="stable")[:top])
                    got, rank, confirm = simulate(c, tried, 2, 0.2)
                else:  # the approximate scores rank the words themselves
                    original, c.first_var = c.first_var, np.asarray(s)
                    got, rank, confirm = simulate(c, tried, 2, 0.2)
                    c.first_var, extra, rank = original, int(c.tokens.max() + 1), int(rank * cost)
                agree += same(got, c.chosen)
                tokens += rank + confirm + extra
            print(f"  {name:7s} {'' if top is None else f'top {top}':6s} agree {agree / len(cases):6.1%}  "
                  f"tokens {tokens / base:6.1%} of the cache's rules")


if __name__ == "__main__":
    main()
