#!/usr/bin/env python3
"""Classical forecasting peers on the split and origins `recur forecast` scores.

    ~/ref/bin/python Tools/Baselines/forecast_classical.py [--data ../shared/data/timeseries] [--out FILE.json] [--series NAME]

For each series and horizon below, splits the rows as `recur forecast --test-fraction 0.2` does
(the last max(round(0.2 n), h) rows test), forecasts h steps from every test origin t
(rows 0..t observed; t from the last training row to n-1-h) and pools RMSE, MAE and MASE over all
(origin, step) pairs, as `recur forecast --horizon h --season m` does, for:

- naive (last value) and seasonal naive (the value one season earlier);
- Holt-Winters: statsmodels ExponentialSmoothing (additive damped trend, seasonal additive or
  multiplicative as listed; simple exponential smoothing for the series without a season), parameters and initial states fitted on the training rows, then the
  same model filtered through each origin (initialization "known");
- (S)ARIMA: statsmodels SARIMAX with the order listed, fitted on the training rows, its state
  extended through each origin with the parameters fixed (`results.extend`).

MASE divides by the in-sample MAE of the seasonal naive forecast on the training rows (M4 convention,
Recur's). Writes the scores as JSON (committed as Tools/Baselines/forecast_classical_scores.json).
Needs statsmodels and numpy (not needed by Recur itself).
"""
import argparse
import csv
import json
import math
import os
import warnings

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.statespace.sarimax import SARIMAX

# name, file, column, season, horizons, Holt-Winters seasonal kind, (S)ARIMA order, seasonal order, log
SERIES = [
    ("airline", "airline_passengers.csv", "passengers", 12, [12], "mul", (0, 1, 1), (0, 1, 1, 12), True),
    ("co2 weekly", "co2_weekly.csv", "co2_interp", 52, [12, 52], "add", (1, 1, 1), (0, 1, 1, 52), False),
    ("sunspots yearly", "sunspots_yearly.csv", "sunactivity", 11, [11, 12], None, (9, 0, 0), (0, 0, 0, 0), False),
]


def read(path, column):
    with open(path, newline="") as f:
        return np.array([float(r[column]) for r in csv.DictReader(f)])


def split(n, h, test_fraction=0.2):
    test = max(int(math.floor(n * test_fraction + 0.5)), h)
    train_end = n - test
    return train_end, list(range(train_end - 1, n - h))


def scores(y, forecasts, origins, h, train_end, season):
    errors = np.array([[y[t + 1 + k] - forecasts[i][k] for k in range(h)] for i, t in enumerate(origins)]).ravel()
    train = y[:train_end]
    scale = np.mean(np.abs(train[season:] - train[:-season]))
    return {"rmse": float(np.sqrt(np.mean(errors ** 2))), "mae": float(np.mean(np.abs(errors))),
            "mase": float(np.mean(np.abs(errors)) / scale)}


def holt_winters(y, origins, h, train_end, season, seasonal):
    # Seasonal series: damped additive trend + seasonality; others: simple exponential smoothing.
    trend = "add" if seasonal else None
    kinds = dict(trend=trend, damped_trend=bool(trend), seasonal=seasonal, seasonal_periods=season if seasonal else None)
    fit = ExponentialSmoothing(y[:train_end], initialization_method="estimated", **kinds).fit()
    p = fit.params
    out = []
    for t in origins:
        model = ExponentialSmoothing(y[:t + 1], initialization_method="known", initial_level=p["initial_level"],
                                     initial_trend=p["initial_trend"] if trend else None,
                                     initial_seasonal=p["initial_seasons"] if seasonal else None, **kinds)
        r = model.fit(smoothing_level=p["smoothing_level"], smoothing_trend=p["smoothing_trend"] if trend else None,
                      smoothing_seasonal=p["smoothing_seasonal"] if seasonal else None,
                      damping_trend=p["damping_trend"] if trend else None, optimized=False)
        out.append(np.asarray(r.forecast(h)))
    return out


def sarima(y, origins, h, train_end, order, seasonal_order, log):
    z = np.log(y) if log else y
    res = SARIMAX(z[:train_end], order=order, seasonal_order=seasonal_order,
                  trend="c" if order[1] == 0 and seasonal_order[1] == 0 else None).fit(disp=False)
    out, current, end = [], res, train_end - 1
    for t in origins:
        if t > end:
            current = current.extend(z[end + 1:t + 1])
            end = t
        f = np.asarray(current.forecast(h))
        out.append(np.exp(f) if log else f)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/timeseries"))
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "forecast_classical_scores.json"))
    p.add_argument("--series", action="append", help="only this series (repeatable; default: all)")
    p.add_argument("--no-sarima", action="store_true", help="skip (S)ARIMA (slow with a 52-week season on a loaded machine)")
    a = p.parse_args()
    warnings.filterwarnings("ignore")
    results = []
    for name, file, column, season, horizons, hw_seasonal, order, seasonal_order, log in SERIES:
        if a.series and name not in a.series:
            continue
        y = read(os.path.join(a.data, file), column)
        for h in horizons:
            train_end, origins = split(len(y), h)
            naive = [np.full(h, y[t]) for t in origins]
            seasonal = [np.array([y[t + k + 1 - season * ((k + season) // season)] for k in range(h)]) for t in origins]
            row = {"series": name, "file": file, "column": column, "season": season, "horizon": h,
                   "rows": len(y), "train_rows": train_end, "test_origins": len(origins), "scores": {
                       "naive": scores(y, naive, origins, h, train_end, season),
                       "seasonal_naive": scores(y, seasonal, origins, h, train_end, season),
                       "holt_winters": scores(y, holt_winters(y, origins, h, train_end, season, hw_seasonal),
                                              origins, h, train_end, season),
                       "sarima": None if a.no_sarima else scores(y, sarima(y, origins, h, train_end, order, seasonal_order, log),
                                                                          origins, h, train_end, season)},
                   "holt_winters": f"damped additive trend, {hw_seasonal} seasonality" if hw_seasonal
                   else "simple exponential smoothing",
                   "sarima": f"SARIMAX{order}x{seasonal_order}" + (" on log values" if log else "")}
            results.append(row)
            print(f"{name:16s} h={h:2d} origins={len(origins):4d} " + "  ".join(
                f"{k} MASE {v['mase']:.3f}" for k, v in row["scores"].items() if v), flush=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
