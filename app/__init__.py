"""zeroloop: an AlphaZero-style self-play loop for board games."""

__version__ = "0.1.0"
