"""The Morph Studio's Qt-free side: its keyframes and path settings (`morph_session`)."""
