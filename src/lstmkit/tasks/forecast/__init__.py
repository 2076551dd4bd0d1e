"""Forecasting: the LSTM forecaster, its rolling-origin backtest, metrics and baselines."""
