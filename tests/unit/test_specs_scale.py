"""engine.language.specs on big diagrams: the same problems at any size, and parses that do not wait for one another."""
from __future__ import annotations

import re
import threading
import uuid
from collections import Counter

from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffProcessParser

from engine.language import specs
from engine.errors import SpecInvalid
from engine.language.lint import lint
from tests.bpmn_scale import FLAW_BLOCK, sequence

DEADLINE_SECONDS = 120  # generous: the machine may be busy; a passing run never waits for it


def found(xml: bytes) -> list:
    try:
        return list(specs.parse_bundle({"secuencia.bpmn": xml}).warnings)
    except SpecInvalid as exc:
        return exc.problems


def kinds(problems) -> Counter:
    """Each problem without the numbers that tell one block of tasks from another."""
    return Counter((p.file, p.severity, re.sub(r"\d+", "#", p.element_id or ""), re.sub(r"\d+", "#", p.message))
                   for p in problems)


def lines_by_id(xml: bytes) -> dict[str, int]:
    return {el.get("id"): el.sourceline for el in etree.fromstring(xml).iter(etree.Element) if el.get("id")}


def test_clean_diagram_is_accepted_at_any_size():
    for tasks in (6, 600):
        assert found(sequence(tasks)) == []


def test_lint_finds_at_6000_tasks_the_problems_it_finds_at_6_a_thousand_times():
    small, big = sequence(FLAW_BLOCK, flaws=True), sequence(1000 * FLAW_BLOCK, flaws=True)
    few = lint({"secuencia.bpmn": etree.fromstring(small)})
    many = lint({"secuencia.bpmn": etree.fromstring(big)})
    assert len(few) == 7 and {p.severity for p in few} == {"error", "warning"}
    assert kinds(many) == Counter({kind: 1000 * count for kind, count in kinds(few).items()})
    lines = lines_by_id(big)
    assert all(p.line == lines[p.element_id] for p in many)  # each problem is pinned on its own element


def test_parse_reports_at_3000_tasks_the_problems_of_6_five_hundred_times():
    # 6,000 tasks with their faults would pass the 2 MiB a document may have.
    small, big = sequence(FLAW_BLOCK, flaws=True), sequence(500 * FLAW_BLOCK, flaws=True)
    few, many = found(small), found(big)
    assert kinds(few) == kinds(lint({"secuencia.bpmn": etree.fromstring(small)}))
    assert kinds(many) == Counter({kind: 500 * count for kind, count in kinds(few).items()})
    lines = lines_by_id(big)
    assert all(p.line == lines[p.element_id] for p in many)


def test_a_long_flat_chain_is_refused_for_its_length_whatever_its_size():
    # SpiffWorkflow reads a chain of steps recursively: it gives up after a few hundred steps in a row.
    for tasks in (800, 2000):
        [problem] = found(sequence(tasks, stage_tasks=None))
        assert "demasiado larga" in problem.message and problem.element_id.startswith("t")


def test_spiffworkflow_index_of_a_process_is_built_in_one_walk_with_the_same_elements():
    xml = sequence(40, flaws=True, di=True)
    root = etree.fromstring(xml)
    queries = []

    class Watching(specs._ProcessParser):
        def xpath(self, xpath):
            queries.append(xpath)
            return super().xpath(xpath)

    class Parser(specs._Parser):
        PROCESS_PARSER_CLASS = Watching

    parser = Parser()
    parser.add_bpmn_xml(etree.ElementTree(root), filename="secuencia.bpmn")
    assert ".//*[@id]" in queries  # SpiffWorkflow still asks for it, so the override still matters
    for process in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process",
                             "{http://www.omg.org/spec/BPMN/20100524/MODEL}subProcess"):
        ours = specs._ProcessParser(parser, process, parser.namespaces, {}, filename="secuencia.bpmn")
        theirs = SpiffProcessParser(parser, process, parser.namespaces, {}, filename="secuencia.bpmn")
        assert ours.xpath(".//*[@id]") == process.xpath(".//*[@id]")
        assert list(ours.nodes_by_id) == list(theirs.nodes_by_id)
        assert ours.outgoing_sequence_flows == theirs.outgoing_sequence_flows
        assert ours.boundary_events_by_attached == theirs.boundary_events_by_attached


def test_a_small_parse_finishes_while_a_big_one_is_under_way(monkeypatch):
    tag = uuid.uuid4().hex  # content new to the parse cache
    big = sequence(2000, process_id=f"grande_{tag}")
    small = sequence(3, process_id=f"pequena_{tag}")
    inside_big, release_big = threading.Event(), threading.Event()
    real_lint = specs.lint

    def lint_pausing_the_big_one(bpmn, dmn=None, ids=None):
        if "grande.bpmn" in bpmn:
            inside_big.set()
            release_big.wait(DEADLINE_SECONDS)
        return real_lint(bpmn, dmn, ids)

    monkeypatch.setattr(specs, "lint", lint_pausing_the_big_one)
    finished: list[str] = []
    threads = {name: threading.Thread(target=lambda name=name, xml=xml: (specs.parse_bundle({f"{name}.bpmn": xml}),
                                                                        finished.append(name)))
               for name, xml in (("grande", big), ("pequena", small))}
    try:
        threads["grande"].start()
        assert inside_big.wait(DEADLINE_SECONDS), "the big parse never got under way"
        threads["pequena"].start()
        threads["pequena"].join(DEADLINE_SECONDS)
        assert finished == ["pequena"], "the small parse waited for the big one"
    finally:
        release_big.set()
        for thread in threads.values():
            thread.join(DEADLINE_SECONDS)
    assert finished == ["pequena", "grande"]


def test_the_same_content_asked_for_twice_at_once_is_parsed_once(monkeypatch):
    xml = sequence(50, process_id=f"mismo_{uuid.uuid4().hex}")
    parses, inside, release = [], threading.Event(), threading.Event()
    real_parse = specs._parse

    def pausing_parse(items):
        parses.append(items)
        inside.set()
        release.wait(DEADLINE_SECONDS)
        return real_parse(items)

    monkeypatch.setattr(specs, "_parse", pausing_parse)
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", specs.parse_bundle({"m.bpmn": xml})))
    second = threading.Thread(target=lambda: results.setdefault("second", specs.parse_bundle({"m.bpmn": xml})))
    try:
        first.start()
        assert inside.wait(DEADLINE_SECONDS)
        [(key, under_way)] = specs._parsing.items()
        waiting = threading.Event()

        class Watched:  # the same parse under way, telling us when somebody waits for it
            def wait(self, timeout=None):
                waiting.set()
                return under_way.wait(timeout)

        specs._parsing[key] = Watched()
        second.start()
        assert waiting.wait(DEADLINE_SECONDS), "the second request did not wait for the first parse"
    finally:
        release.set()
        first.join(DEADLINE_SECONDS)
        second.join(DEADLINE_SECONDS)
    assert len(parses) == 1
    assert results["first"] is results["second"]
    assert specs._parsing == {}


def test_schema_errors_of_parses_in_other_threads_stay_theirs():
    # Each thread validates with its own schema validator: their error logs never mix.
    def invalid(n):
        return sequence(2, process_id=f"malo{n}_{uuid.uuid4().hex}").replace(
            b'<bpmn:endEvent id="fin"', f'<bpmn:desconocido{n}/><bpmn:endEvent id="fin"'.encode())

    results: dict[int, list] = {}

    def parse(n):
        results[n] = [found(invalid(n)) for _ in range(5)]

    threads = [threading.Thread(target=parse, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS)
    for n, runs in results.items():
        for problems in runs:
            assert problems and all(f"desconocido{n}" in p.message for p in problems), problems
    assert len(results) == 4
    validators = set()
    thread = threading.Thread(target=lambda: validators.add(id(specs._validator())))
    thread.start()
    thread.join(DEADLINE_SECONDS)
    assert id(specs._validator()) not in validators
