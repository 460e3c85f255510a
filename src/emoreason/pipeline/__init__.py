"""The analysis pipeline: options, the loaded analyzers, one speaker's clips, result building."""
