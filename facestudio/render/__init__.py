"""Faces as pixels and files (Qt-free): the fast `renderer` (newest request wins), grids,
face PNGs and face files, output formats, exports (GIF, MP4, frames) and morph paths.
Import the module you need; this package file loads nothing (so command-line parsers
that use `output_files` load without torch).
"""
