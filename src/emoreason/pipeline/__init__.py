"""The analysis pipeline behind ``emoreason.analyze``: ``options`` (AnalyzeOptions, checked once),
``perceive`` (the Pipeline: loaded analyzers, one input through the perception stages), ``audio_path`` (the
audio path's stages: voice activity, voice, words, voices), ``clips`` (one speaker's clips, the voice read
together) and ``result`` (fusion into a Result, relabelling)."""
