"""Train the frame-level voice classifier (:mod:`emoreason.perception.voice.frames`) in torch (CPU).

Input: the Whisper tiny.en encoder states of every clip and view (``features.extract_frames``). Each
epoch sees every training clip once, in one randomly chosen view (the original or an augmentation);
AdamW (weight decay 0.01), one-cycle learning rate up to 2e-3, 30 epochs, batches of 32, label smoothing
0.1, dropout 0.1 on the frames and 0.3 on the pooled values, ``H`` = 128. One CPU thread and a fixed seed,
so a run is reproducible. Prediction averages the probabilities of the views it is given (the original
and the test-time speed views), like the logistic regressions.

torch is imported inside the functions that train: it is heavy, and prediction needs only numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emoreason.perception.voice.frames import frame_proba

HIDDEN = 128
EPOCHS = 30
BATCH = 32
LR = 2e-3
WEIGHT_DECAY = 1e-2
LABEL_SMOOTHING = 0.1
DROPOUT_IN, DROPOUT_POOL = 0.1, 0.3

Frames = tuple[np.ndarray, np.ndarray]  # (states (frames, dim), offsets (clips + 1,)) of one view


def clip_states(view: Frames, i: int) -> np.ndarray:
    states, offsets = view
    return states[offsets[i]:offsets[i + 1]]


def _net(dim: int, n_classes: int, hidden: int):
    import torch

    class FrameNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop_in = torch.nn.Dropout(DROPOUT_IN)
            self.proj = torch.nn.Linear(dim, hidden)
            self.att = torch.nn.Linear(hidden, 1)
            self.drop = torch.nn.Dropout(DROPOUT_POOL)
            self.out = torch.nn.Linear(3 * hidden, n_classes)

        def forward(self, x, mask):
            h = torch.nn.functional.gelu(self.proj(self.drop_in(x)), approximate="tanh")
            a = self.att(h).squeeze(-1).masked_fill(~mask, -1e9)
            w = torch.softmax(a, dim=1).unsqueeze(-1)
            m = mask.float().unsqueeze(-1)
            n = m.sum(1)
            mean = (h * m).sum(1) / n
            std = (((h - mean[:, None]) ** 2 * m).sum(1) / n + 1e-5).sqrt()
            return self.out(self.drop(torch.cat([(h * w).sum(1), mean, std], dim=1)))

    return FrameNet()


def _batch(views: Sequence[Frames], clips: np.ndarray, view_ids: np.ndarray, mean: np.ndarray,
           std: np.ndarray):
    import torch

    seqs = [clip_states(views[v], i) for i, v in zip(clips, view_ids)]
    width = max(len(s) for s in seqs)
    x = np.zeros((len(seqs), width, mean.shape[0]), dtype=np.float32)
    mask = np.zeros((len(seqs), width), dtype=bool)
    for j, s in enumerate(seqs):
        x[j, :len(s)] = (s.astype(np.float32) - mean) / std
        mask[j, :len(s)] = True
    return torch.from_numpy(x), torch.from_numpy(mask)


def fit_frames(views: Sequence[Frames], y: np.ndarray, clips: np.ndarray, n_classes: int, seed: int = 0,
               epochs: int | None = None, hidden: int | None = None) -> dict[str, np.ndarray]:
    """Train on ``clips`` (indices into the views) and return the network as plain float32 arrays."""
    import torch

    epochs = EPOCHS if epochs is None else epochs
    hidden = HIDDEN if hidden is None else hidden

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        rng = np.random.RandomState(seed)
        train = np.concatenate([clip_states(views[0], i) for i in clips]).astype(np.float64)
        mean = train.mean(axis=0).astype(np.float32)
        std = (train.std(axis=0) + 1e-5).astype(np.float32)
        net = _net(mean.shape[0], n_classes, hidden)
        opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
        steps = epochs * int(np.ceil(len(clips) / BATCH))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps)
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
        labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
        net.train()
        for _ in range(epochs):
            order = rng.permutation(clips)
            view_ids = rng.randint(0, len(views), len(order))
            for b in range(0, len(order), BATCH):
                x, mask = _batch(views, order[b:b + BATCH], view_ids[b:b + BATCH], mean, std)
                loss = loss_fn(net(x, mask), labels[order[b:b + BATCH]])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        sd = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    finally:
        torch.set_num_threads(threads)
    return {"in_mean": mean, "in_std": std, "proj_w": sd["proj.weight"], "proj_b": sd["proj.bias"],
            "att_w": sd["att.weight"], "att_b": sd["att.bias"],
            "out_w": sd["out.weight"], "out_b": sd["out.bias"]}


def predict_frames(params: dict[str, np.ndarray], views: Sequence[Frames], clips: np.ndarray) -> np.ndarray:
    """Probabilities of ``clips`` averaged over the given views (numpy inference, as shipped)."""
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    return np.mean([frame_proba(p64, [clip_states(v, i) for i in clips]) for v in views], axis=0)
