"""The cross-validated rows of ``face_models_report.py``: the old pool refitted by grouped CV on
``facial_expressions`` (as ``training/face.py`` scored it) and the new default's net+fer+facex pool refitted
by CV on FER+ valid (its shipped fit saw every FER+ valid face). Both work on the report's per-image
records (the stage's recorded probabilities and feature blocks); refused images are "no face" misses.
sklearn is imported inside the functions.
"""

from __future__ import annotations

import numpy as np

from emoreason.eval import metrics as M
from emoreason.labels import CANONICAL
from emoreason.perception.face.pool import ExpressionPool
from emoreason.training.face_features import LFW_NAME, person_of
from emoreason.training.face_pool import fit_pool

NO_FACE = "no face"
SEEDS = (0, 1, 2)


def grouped_cv_pool(records: list[dict], spec_pool: ExpressionPool, log) -> tuple[dict, list[str]]:
    """The old pool refitted by 5-fold CV grouped by person (3 seeds) and cross-source; seed 0's
    predictions (refusals as "no face") for the per-class numbers and the confusion."""
    from sklearn.model_selection import StratifiedGroupKFold

    found = [i for i, r in enumerate(records) if "blocks" in r]
    lf, lx, au = (np.array([records[i]["blocks"][k] for i in found])
                  for k in ("fer_logp", "facex_logp", "au"))
    y = np.array([CANONICAL.index(records[i]["label"]) for i in found])
    groups = np.array([person_of(records[i]["id"]) for i in found])
    lfw = np.array([bool(LFW_NAME.search(records[i]["id"])) for i in found])

    def fit(idx):
        return fit_pool(lf[idx], lx[idx], y[idx], au_raw=au[idx] if spec_pool.uses_au else None,
                        equal=False, floor=spec_pool.floor)

    def pred(pool, idx):
        return pool.predict_proba(lf[idx], lx[idx], au[idx] if pool.uses_au else None).argmax(1)

    y_all = [r["label"] for r in records]
    uar_found, uar_all, acc_all, seed0 = [], [], [], None
    for seed in SEEDS:
        p = np.empty_like(y)
        for tr, te in StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(y, y, groups):
            p[te] = pred(fit(tr), te)
        labels_found = [CANONICAL[k] for k in p]
        uar_found.append(M.uar([CANONICAL[k] for k in y], labels_found))
        every = [NO_FACE] * len(records)
        for j, i in enumerate(found):
            every[i] = labels_found[j]
        uar_all.append(M.uar(y_all, every))
        acc_all.append(M.accuracy(y_all, every))
        seed0 = every if seed0 is None else seed0
        log(f"  old pool grouped CV seed {seed}: UAR {uar_found[-1]:.3f} (faces found), "
            f"{uar_all[-1]:.3f} (all)")
    cross = pred(fit(np.flatnonzero(lfw)), np.flatnonzero(~lfw))
    stills = [CANONICAL[k] for k in y[~lfw]]
    cv = {"protocol": "5-fold StratifiedGroupKFold by person, seeds 0-2, pool refitted per fold "
                      f"(weights >= 0 + biases, floor {spec_pool.floor:g}, AU {spec_pool.uses_au})",
          "uar_faces_found_mean": float(np.mean(uar_found)), "uar_faces_found_std": float(np.std(uar_found)),
          "uar_all_mean": float(np.mean(uar_all)), "accuracy_all_mean": float(np.mean(acc_all)),
          "cross_source_uar": M.uar(stills, [CANONICAL[k] for k in cross]),
          "cross_source_accuracy": M.accuracy(stills, [CANONICAL[k] for k in cross]),
          "cross_source_n": int((~lfw).sum())}
    return cv, seed0


def cv_default_on_ferplus(records: list[dict], models: dict, main: str, log) -> tuple[dict, list[str]] | None:
    """The new default refitted by 5-fold stratified CV on FER+ valid (3 seeds) when it is the net+fer+facex
    pool fitted on FER+ valid (its shipped fit saw every FER+ valid face): ``training.ferplus.pool``'s fit on
    the stage's recorded net, fer and facex probabilities of the faces found; seed 0's predictions."""
    pool = getattr(models[main], "pool", None)
    members = {"net": next((k for k in models if k.startswith("new model")), None), "fer": "fer",
               "facex": "facex"}
    if pool is None or "FER+ valid" not in str(pool.meta.get("fitted_on", "")) or None in members.values():
        return None
    from sklearn.model_selection import StratifiedKFold

    from emoreason.training.ferplus.pool import fit_net_pool

    found = [i for i, r in enumerate(records) if "scores" in r]
    probs = {m: np.array([[records[i]["scores"][k][c] for c in CANONICAL] for i in found])
             for m, k in members.items()}
    y = np.array([CANONICAL.index(records[i]["label"]) for i in found])
    y_all = [r["label"] for r in records]
    uars, accs, seed0 = [], [], None
    for seed in SEEDS:
        p = np.empty_like(y)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(y, y):
            fitted = fit_net_pool({m: v[tr] for m, v in probs.items()}, y[tr], floor=pool.floor)
            test = {m: np.log(np.maximum(v[te], 1e-12)) for m, v in probs.items()}
            p[te] = fitted.predict_proba(test).argmax(1)
        every = [NO_FACE] * len(records)
        for j, i in enumerate(found):
            every[i] = CANONICAL[p[j]]
        uars.append(M.uar(y_all, every))
        accs.append(M.accuracy(y_all, every))
        seed0 = every if seed0 is None else seed0
        log(f"  new default, 5-fold CV on FER+ valid, seed {seed}: UAR {uars[-1]:.3f}, "
            f"accuracy {accs[-1]:.3f}")
    cv = {"protocol": "5-fold StratifiedKFold on the faces found, seeds 0-2, net+fer+facex pool refitted per "
                      "fold (training.ferplus.pool.fit_net_pool); refusals as misses",
          "uar_mean": float(np.mean(uars)), "uar_std": float(np.std(uars)),
          "accuracy_mean": float(np.mean(accs)), "accuracy_std": float(np.std(accs))}
    return cv, seed0
