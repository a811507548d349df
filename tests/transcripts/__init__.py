"""Transcripts of the scenarios recorded on the real NNI 3.0 manager (``record.py``) and their replay
(``replay.py``); the recordings are under ``data/``."""
