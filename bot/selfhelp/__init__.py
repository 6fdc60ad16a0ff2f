"""Quick answers and the Wegweiser: content loaded from content/, matching and what was offered."""
