"""Qt-free state of the app's rooms (explorer, morph, training): what the views in
`facestudio.ui` show, kept apart from Qt so it is tested and reused without a window."""
