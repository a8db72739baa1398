"""Latent space (Qt-free): seeds and truncation (`sampling`), z/w/w+ spaces (`spaces`), style
layers and mixing (`layers`), morph paths (`interpolation`), directions (`directions`,
`style_directions`, `attribute_directions`) and photo projection (`projection`,
`style_projection`). Import the module you need; this package file loads nothing.
"""
