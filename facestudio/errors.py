"""Typed errors that carry a sentence a person can act on.

Every error FaceStudio raises on bad input derives from `FaceStudioError`; its message is
meant to be shown as it is in a dialog or on the command line, so it says what went wrong
and what to do, never a stack trace or an internal name.
"""

from __future__ import annotations


class FaceStudioError(Exception):
    """Base of every error meant for the person using FaceStudio."""


class ModelFileError(FaceStudioError):
    """A model or checkpoint file is missing, damaged, hostile or of the wrong kind."""


class ConfigError(FaceStudioError):
    """A configuration (model, training) holds values FaceStudio cannot use."""


class ImageFileError(FaceStudioError):
    """An image a person gave us cannot be used (not an image, truncated, too large...)."""


class DataSetError(FaceStudioError):
    """A training data set cannot be used at all (missing or empty folder...)."""


class FaceMetadataError(FaceStudioError):
    """A face PNG's embedded latent is missing, malformed or does not fit the model."""


class DiskWriteError(FaceStudioError):
    """A file could not be written (disk full, no permission); the old file is intact."""


class TrainingError(FaceStudioError):
    """Training cannot go on (diverged beyond recovery, conflicting resume settings...)."""
