"""Where random-face's OpenVINO IR files are, found without importing the package.

random-face's own Python code needs a removed OpenVINO API (and pulls jupyter, opencv,
...), so FaceStudio never imports it: `importlib.metadata` lists the installed
distribution's files and we take the four data files from that list.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from facestudio.errors import ModelFileError

DISTRIBUTION = "random-face"
PINNED_VERSION = "2021.7.21.1"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={PINNED_VERSION}"
_FILES = ("MappingNetwork.xml", "MappingNetwork.bin", "SynthesisNetwork.xml", "SynthesisNetwork.bin")


@dataclass(frozen=True)
class IRSource:
    """The two IR pairs of an installed random-face, and the version that shipped them."""

    version: str
    mapping_xml: Path
    synthesis_xml: Path

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.mapping_xml, self.mapping_xml.with_suffix(".bin"),
                self.synthesis_xml, self.synthesis_xml.with_suffix(".bin"))


def find_ir_source() -> IRSource | None:
    """The installed IR files, or None when random-face (or one of its data files) is absent."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    found: dict[str, Path] = {}
    for entry in dist.files or ():
        parts = entry.parts
        if len(parts) == 3 and parts[:2] == ("random_face", "data") and parts[2] in _FILES:
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                found[parts[2]] = path
    if len(found) != len(_FILES):
        return None
    return IRSource(dist.version, found["MappingNetwork.xml"], found["SynthesisNetwork.xml"])


def require_ir_source() -> IRSource:
    source = find_ir_source()
    if source is None:
        raise ModelFileError(f"The photographic face model needs the random-face package's data files; install them with: {INSTALL_HINT}")
    return source


PHOTOGRAPHIC_HINT = f"For photographic 1024 px faces, install the MobileStyleGAN weights: {INSTALL_HINT}"


def photographic_available() -> bool:
    """Whether the `mobilestylegan-ffhq` model can be opened (random-face's files are installed)."""
    return find_ir_source() is not None
