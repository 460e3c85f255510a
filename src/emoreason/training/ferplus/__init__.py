"""Training the face stage's own expression network on FER+ (``python -m emoreason.training.ferplus.train``).

``net`` (the torch network), ``data`` (the vote CSVs, soft targets, batched augmentation), ``train`` (the
loop, the FER+ valid scores, the prior correction, ONNX export), ``pool`` (the net+fer+facex pool fitted on
FER+ valid). Needs the ``train`` extra (torch, onnx).
"""
