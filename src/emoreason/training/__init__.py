"""Training of the default models, one module (or package) per perception modality it feeds.

``face`` (the face expression head), ``voice/`` (the voice model), ``text/`` (the text head and its LoRA
members), ``fusion`` (the per-modality temperatures and priors in ``fusion.json``) and ``default_models``
(all of them in order: ``emoreason train-default-models``). Each training script scores with
:mod:`emoreason.eval.metrics` and draws its model-card figure with :mod:`emoreason.eval.plots`.
"""
