"""Reaching residents where they live: deep links that say which poster brought someone to the
bot, and the posters and flyers that carry them."""
