"""Former name of `metrics.resampling` (the package's one bootstrap), kept so that imports of
`metrics.bootstrap` keep working; new code imports `metrics.resampling`.

>>> import metrics.resampling
>>> resample_weights is metrics.resampling.resample_weights
True
"""

from metrics.resampling import map_resamples, percentile_interval, resample_weights

__all__ = ["map_resamples", "percentile_interval", "resample_weights"]
