"""Privacy area: erasure requests and retention (docs/privacy.md)."""
