"""Measurable quality of generated faces (Qt-free).

`evaluate(model, n)` gives the Frechet distance, improved precision/recall, diversity
and per-factor match of a model against real synthetic faces, all measured through the
in-domain factor encoder (`factor_encoder`), FaceStudio's stand-in for Inception.
"""

from facestudio.metrics.diversity import diversity_ratio, mean_pairwise_distance
from facestudio.metrics.evaluation import FAST_N, FULL_N, evaluate, quality_hook, score_features
from facestudio.metrics.factor_encoder import FactorEncoder, FactorHead, LoadedEncoder, load_encoder, save_encoder, shared_encoder
from facestudio.metrics.factor_match import FactorMatch, factor_table, match_factors
from facestudio.metrics.frechet import FeatureStats, feature_stats, frechet_distance
from facestudio.metrics.knn_precision_recall import knn_radii, precision_recall
from facestudio.metrics.reference_stats import Reference, reference_for

__all__ = [
    "FAST_N", "FULL_N", "evaluate", "quality_hook", "score_features",
    "FactorEncoder", "FactorHead", "LoadedEncoder", "load_encoder", "save_encoder", "shared_encoder",
    "FactorMatch", "factor_table", "match_factors",
    "FeatureStats", "feature_stats", "frechet_distance",
    "knn_radii", "precision_recall", "diversity_ratio", "mean_pairwise_distance",
    "Reference", "reference_for",
]
