"""The analysis pipeline behind ``emoreason.analyze``: ``options`` (AnalyzeOptions, checked once),
``perceive`` (the Pipeline: loaded analyzers, one input through the perception stages), ``clips`` (one
speaker's clips, the voice read together) and ``result`` (fusion into a Result, relabelling)."""
