"""The speech front-end shared by voice and words: voice activity detection and speech-to-text."""
