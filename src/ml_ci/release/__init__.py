"""GTO-compatible model registry in git tags: names, registry state, release, promote, rollback."""
