"""The text modality (the words said or given): transcripts and the text-emotion models."""
