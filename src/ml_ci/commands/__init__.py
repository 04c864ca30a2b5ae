"""One module per ``ml-ci`` subcommand. Each defines ``command`` (a click command) whose
callback fills a plain settings object and calls the engine; only this layer prints."""
