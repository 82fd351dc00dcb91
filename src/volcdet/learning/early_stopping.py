"""Early stopping on a held-out loss, shared by training from scratch and fine-tuning."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EarlyStopping:
    """The best held-out loss so far and the epochs since it last improved (by more than
    ``min_delta``); training stops after ``patience`` epochs without improvement."""

    patience: int
    min_delta: float = 0.0
    best_loss: float = math.inf
    bad_epochs: int = 0

    def update(self, loss: float) -> bool:
        """Record one epoch's held-out loss; True when it improves on the best so far."""
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.bad_epochs = loss, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row brought no improvement."""
        return self.bad_epochs >= self.patience
