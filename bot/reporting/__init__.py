"""Figures for the funder: counts by topic, language and district, never a name or a text;
exports (xlsx, csv), charts and the monthly series behind them."""
