"""A small word-level tokenizer trained on the recipe's own texts, for CPU smoke runs and tests.

Real recipes use the LLM's own tokenizer (``tokenizer_path``); this one exists so that a tiny random
model can be trained and run end to end without downloading anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from emoreason.emollm.instructions import (
    EMOTION_INSTRUCTIONS,
    MERR_LABEL_WORDS,
    REASON_INFER_SUFFIX,
    REASON_INSTRUCTIONS,
)

_FIXED = ["[INST] <video> </video> <feature> </feature> The person in video says: . "
          "[emotion] [reason] [/INST]",
          *EMOTION_INSTRUCTIONS, *REASON_INSTRUCTIONS, REASON_INFER_SUFFIX, " ".join(MERR_LABEL_WORDS)]


def train_wordlevel_tokenizer(texts: Iterable[str], lowercase: bool = False):
    """A ``PreTrainedTokenizerFast`` (WordLevel, whitespace + punctuation split) over ``texts`` and the
    prompts."""
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    if lowercase:
        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Punctuation()])
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "<s>", "</s>", "<unk>"])
    tok.train_from_iterator([*_FIXED, *texts], trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
