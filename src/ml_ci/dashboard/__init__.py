"""The static dashboard: registry timeline, objectives over the window, stored results,
incidents (:mod:`.engine` gathers into :mod:`.view`, :mod:`.charts` lays out, :mod:`.render`
writes)."""
