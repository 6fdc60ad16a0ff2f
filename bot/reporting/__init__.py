"""Figures for the funder: exports (xlsx, csv), charts and the monthly series behind them."""
