"""Strict YAML for ``ml-ci.yaml``: duplicate keys and absurd nesting are refused.

PyYAML keeps the LAST of two equal keys without a word, so a reviewer reading the first
``gates:`` of a file would not see the gates that apply; and a document nested 100,000 deep
exhausts Python's recursion in the composer. Both are input errors, reported in one line.
"""

from __future__ import annotations

from typing import Any

from ml_ci.errors import ConfigError


def _strict_loader() -> type[Any]:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:  # an unhashable key: SafeLoader reports it itself
                    break
                if duplicate:
                    line = key_node.start_mark.line + 1
                    raise ConfigError(
                        f"line {line}: duplicate key {key!r}; keep one of them (YAML would "
                        "silently use the last)"
                    )
                seen.add(key)
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

    return StrictLoader


def load_yaml(text: str, source: str) -> Any:
    """Parse ``text`` (from ``source``, named in errors) refusing duplicate keys."""
    import yaml

    try:
        return yaml.load(text, Loader=_strict_loader())  # a SafeLoader subclass: safe
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
    except RecursionError:
        raise ConfigError(
            f"{source}: nested too deeply to be a config file; fix the brackets/indentation"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: malformed YAML: {yaml_problem(error)}") from None


def yaml_problem(error: Exception) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)
