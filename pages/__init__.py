"""The dashboard's pages. ``common`` holds what every page shares; it is not a page."""
