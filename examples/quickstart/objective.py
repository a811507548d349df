"""A toy objective shared by the real trial script and the fake's scripted trial."""

import math


def accuracy(learning_rate: float, batch_size: int, dropout: float, epoch: int) -> float:
    """A smooth, made-up accuracy curve that peaks near lr=0.01, batch 64, dropout 0.2."""
    quality = math.exp(-(math.log10(learning_rate) + 2) ** 2) * (1 - abs(dropout - 0.2))
    quality *= 1 - abs(math.log2(batch_size) - 6) / 10
    return round(quality * (1 - math.exp(-(epoch + 1) / 3)), 6)
