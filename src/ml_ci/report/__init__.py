"""The evaluation report: the view of a record (:mod:`.view`), charts (:mod:`.charts`) and
jinja2 rendering with size budgets (:mod:`.render`)."""
