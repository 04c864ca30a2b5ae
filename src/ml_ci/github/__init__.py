"""GitHub: the one REST client (:mod:`.client`), Actions context (:mod:`.context`), publishing
the report to a pull request (:mod:`.publish`). Import the submodules; this package is light."""
