"""The face modality: ``mesh`` (detection, the 478-point mesh, the main face), ``action_units`` (AU-like
measures), ``crops`` and ``image_models`` (fer's and facex's inputs and models), ``pool`` and ``head`` (the
expression models fitted on top of them), ``expression`` (the registry of expression models),
``phrases`` (AUs in words, MERR's rules) and ``analyzer`` (the face stage)."""
