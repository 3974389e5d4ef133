"""PyYAML's safe loader (its C parser when installed), made forgiving where a bad value would cost a whole file."""

from __future__ import annotations

import yaml


class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader, made forgiving where a bad value would otherwise cost the whole file.

    A date YAML cannot construct (2024-02-30) or an integer too long for
    Python (int max_str_digits) raised ValueError from the constructor, which
    dropped the file without a line; such values stay text here, and the
    field reader reports them on their own line.  Duplicate keys are recorded
    so the user hears which value won.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_yaml_timestamp(self, node):  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_int(self, node):  # type: ignore[override]
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        self.duplicates.append((key_node.start_mark.line, key_node.value))
                    seen.add(key_node.value)
        return super().construct_mapping(node, deep)


Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
