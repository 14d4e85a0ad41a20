"""Lookups in a bundle's parsed BPMN trees, each built in one walk on first use: elements by id, and the children
and sequence flows of each process or sub-process. Lint and the translation of errors look elements up here instead
of evaluating an XPath such as `//*[@id=...]` per element, which walks the whole document each time.
"""
from __future__ import annotations

from typing import Mapping

from lxml import etree

SEQUENCE_FLOW = "{http://www.omg.org/spec/BPMN/20100524/MODEL}sequenceFlow"


class TreeIndex:
    """Elements by id in each document of a bundle (the first in document order, as `//*[@id=...]` finds), and
    the sequence flows of each process or sub-process; each index is built on first use, in one walk."""

    def __init__(self, docs: Mapping[str, etree._Element]):
        self.docs = docs
        self._by_file: dict[str, dict[str, etree._Element]] = {}
        self._flows: dict[etree._Element, Flows] = {}

    def get(self, file: str, element_id: str | None):
        """The element of that id in that document, or None."""
        root = self.docs.get(file)
        if root is None or not element_id:
            return None
        ids = self._by_file.get(file)
        if ids is None:
            ids = self._by_file[file] = {}
            for el in root.iter(etree.Element):
                ids.setdefault(el.get("id"), el)
        return ids.get(element_id)

    def anywhere(self, element_id: str | None) -> tuple[str, etree._Element] | None:
        """(file, element) of the first document, in the bundle's order, that has an element of that id."""
        for file in self.docs:
            el = self.get(file, element_id)
            if el is not None:
                return file, el
        return None

    def flows(self, scope) -> "Flows":
        """The children and sequence flows of this process or sub-process element."""
        found = self._flows.get(scope)
        if found is None:
            found = self._flows[scope] = Flows(scope)
        return found


class Flows:
    """One process or sub-process: its direct children by id, its sequence flows by source and by target."""

    def __init__(self, scope):
        self.children: dict[str | None, list[tuple[int, etree._Element]]] = {}
        self.by_source: dict[str | None, list[etree._Element]] = {}
        self.by_target: dict[str | None, list[etree._Element]] = {}
        for position, child in enumerate(scope.iterchildren(etree.Element)):
            self.children.setdefault(child.get("id"), []).append((position, child))
            if child.tag == SEQUENCE_FLOW:
                self.by_source.setdefault(child.get("sourceRef"), []).append(child)
                self.by_target.setdefault(child.get("targetRef"), []).append(child)

    def has_child(self, element_id: str) -> bool:
        """Whether a direct child has this id (`./*[@id=$id]`)."""
        return element_id in self.children

    def children_with_ids(self, ids) -> list[etree._Element]:
        """The direct children whose id is one of `ids`, in document order."""
        found = [entry for element_id in ids for entry in self.children.get(element_id, ())]
        return [child for _position, child in sorted(found, key=lambda entry: entry[0])]
