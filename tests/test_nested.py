"""Nested annotation layer by layer (spanqa.corpus.layers, spanqa.run.nested): every span judged, results merged."""

from __future__ import annotations

import json

import pytest

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.corpus.layers import conflicts, label_layers, restrict
from spanqa.corpus.tokenize import doc_words
from spanqa.run.nested import pooled_agreement, pooled_rate
from spanqa.run.pipeline import audit

TEXT = "Pt started aspirin 81mg PO daily for 2 weeks. Mother aged 60 had CHF."


def _doc(i: int) -> Document:
    d = f"p{i}"
    spans = [Span(d, 11, 32, "Treatment"), Span(d, 11, 18, "Drug"), Span(d, 19, 23, "Dosage"), Span(d, 24, 26, "Route"),
             Span(d, 36, 43, "Duration"), Span(d, 36, 43, "Time_elapsed"),          # the same words, two labels
             Span(d, 45, 60, "Subject"), Span(d, 52, 60, "Age"), Span(d, 65, 68, "Problem")]
    return Document(d, TEXT, tuple(spans), group=f"g{i}")


CORPUS = Corpus.from_docs([_doc(i) for i in range(8)], format="jsonl")
TINY = ["model.init=random_tiny", "train.mode=fast", "train.folds=2", "fast.max_epochs=2", "train.max_length=32",
        "train.stride=8", "fast.memory=false", "fast.abbreviations=false"]


def test_layers_never_overlap_and_keep_every_label():
    layers = label_layers(CORPUS)
    graph, count = conflicts(CORPUS)
    assert sorted(lab for layer in layers for lab in layer) == sorted(count)      # every label, once
    for layer in layers:
        assert not any(graph[a] & set(layer) for a in layer)                     # no two labels of a layer overlap
    where = {lab: i for i, layer in enumerate(layers) for lab in layer}
    assert where["Duration"] != where["Time_elapsed"] and where["Drug"] != where["Treatment"]
    assert label_layers(Corpus.from_docs([Document("d", "aspirin", (Span("d", 0, 7, "Drug"),))])) == [["Drug"]]


def test_restrict_keeps_annotation_status_and_one_word_view():
    sub = restrict(CORPUS, ["Drug"])
    d = sub.documents[0]
    assert [s.label for s in d.spans] == ["Drug"] and d.spans is not None
    assert doc_words(d).ranges == doc_words(CORPUS.documents[0]).ranges          # the same words in every layer
    empty = restrict(CORPUS, ["Nothing"]).documents[0]
    assert empty.spans == () and empty.spans is not None                          # annotated: none of these here


def test_pooled_agreement_and_rate():
    a = pooled_agreement([{"matched": 8, "n_labels": 10, "n_predicted": 10, "per_label": {"A": {"f1": 0.8}}},
                          {"matched": 1, "n_labels": 10, "n_predicted": 10, "per_label": {"B": {"f1": 0.1}}}])
    assert a["f1"] == 0.45 and set(a["per_label"]) == {"A", "B"}
    r = pooled_rate([{"n_errors": 2.0, "n_spans": 10, "ci95": [0.1, 0.3], "assessed_labels": ["A"]},
                     {"n_errors": 0.0, "n_spans": 0, "ci95": [None, None]}], {"f1": 0.8})
    assert r["estimate"] == 0.2 and r["ci95"][0] < 0.2 < r["ci95"][1] and r["assessed_labels"] == ["A"]
    assert pooled_rate([{"n_errors": 2.0, "n_spans": 10}], {"f1": 0.5})["withheld"].startswith("not estimated")


def test_nested_audit_judges_every_span_and_merges_the_run(tmp_path):
    flat = audit(CORPUS, load_config(overrides=[*TINY, "data.layers=flat"]), out=tmp_path / "flat", progress=False)
    nested = audit(CORPUS, load_config(overrides=TINY), out=tmp_path / "nested", progress=False)  # the default
    n = sum(len(d.spans) for d in CORPUS.documents)
    assert flat.summary["assessed"]["assessed"] < n                                   # the flat tagger cannot
    assert nested.summary["assessed"] == {**nested.summary["assessed"], "spans": n, "assessed": n, "share": 1.0}
    layers = nested.summary["layers"]
    assert len(layers) == len(label_layers(CORPUS)) and all((tmp_path / "nested" / x["run"]).is_dir() for x in layers)
    spans = [json.loads(x) for x in (tmp_path / "nested" / "spans.jsonl").read_text().splitlines()]
    assert len(spans) == n and {r["layer"] for r in spans} == set(range(1, len(layers) + 1))
    assert not [r for r in spans if r.get("reason") == "overlap_dropped"]
    findings = [json.loads(x) for x in (tmp_path / "nested" / "findings.jsonl").read_text().splitlines()]
    assert len(findings) == sum(x["findings"] for x in layers) == nested.summary["findings"]["total"]
    assert all(f["evidence"]["layer"] in range(1, len(layers) + 1) for f in findings if f["labels"] or f["suggestion"])
    # one k-fold run for all layers: one feature cache, one head per fold with one output per layer
    kfold = tmp_path / "nested" / "layers" / "kfold"
    assert len(list((kfold / "features").glob("*.npy"))) == 1 and len(list((kfold / "folds").glob("*.done"))) == 2
    assert not any((tmp_path / "nested" / x["run"] / "folds").exists() for x in layers)
    assert nested.summary["plan"]["shared_head"] is True and nested.summary["plan"]["layers"] == len(layers)
    assert nested.summary["model_agreement"]["n_labels"] == n

    # the layered run folder is one run: another corpus or layering there is refused, the same run resumes
    import pytest

    from spanqa.core.errors import SpanqaError

    with pytest.raises(SpanqaError) as err:
        audit(CORPUS, load_config(overrides=[*TINY, "data.layers=flat"]), out=tmp_path / "nested", progress=False)
    assert err.value.code == "E406"
    again = audit(CORPUS, load_config(overrides=TINY), out=tmp_path / "nested", progress=False)
    assert [f.id for f in again.findings] == [f.id for f in nested.findings]


def test_apply_on_a_layered_run_keeps_every_layer(tmp_path):
    """Fixes accepted from any layer are applied to the whole corpus; the other layers' spans are all kept."""
    from spanqa.corpus.formats import read_corpus, write_corpus
    from spanqa.review.apply import apply_run
    from spanqa.run.reader import load_run

    noisy = Corpus.from_docs([d.evolve(spans=tuple(s for s in d.spans if not (s.label == "Age" and i % 2)))
                              for i, d in enumerate(CORPUS.documents)], format="jsonl")  # Age left out in 4 notes
    write_corpus(noisy, tmp_path / "c.jsonl", "jsonl")
    corpus = read_corpus(tmp_path / "c.jsonl")
    res = audit(corpus, load_config(overrides=TINY), out=tmp_path / "run", progress=False)
    assert len(res.summary["layers"]) >= 2
    result, version = apply_run(load_run(tmp_path / "run", corpus=tmp_path / "c.jsonl"), tmp_path / "v2", all_above=0.0)
    new = read_corpus(tmp_path / "v2" / "c.jsonl")
    changed = {(c["doc_id"], s["start"], s["end"], s["label"]) for c in
               (json.loads(x) for x in (tmp_path / "v2" / "changelog.jsonl").read_text().splitlines())
               for s in c.get("before", [])}
    before = {(d.id, s.start, s.end, s.label) for d in corpus.documents for s in d.spans}
    after = {(d.id, s.start, s.end, s.label) for d in new.documents for s in d.spans}
    assert before - changed <= after                      # nothing but what a fix names is removed, in any layer
    assert version["counts"]["accepted"] >= 1


def test_a_finding_names_the_span_of_another_layer_it_sits_inside():
    from spanqa.run.nested import in_context
    from spanqa.score.findings import Finding

    doc = CORPUS.documents[0]
    layer_of = {lab: i for i, layer in enumerate(label_layers(CORPUS), 1) for lab in layer}
    f = Finding(doc.id, "boundary", "extend", 0.2, (Span(doc.id, 19, 23, "Dosage"),), (Span(doc.id, 19, 26, "Dosage"),),
                {"p_suggestion": 0.7}, "The model is 70% confident the Dosage span is '81mg PO'. Could we review it?")
    g = in_context(f, doc, layer_of)
    assert g.message == ("The model is 70% confident the Dosage span is '81mg PO'. It sits inside the Treatment "
                         "'aspirin 81mg PO daily'. Could we review it?")
    assert g.evidence["inside"] == {"start": 11, "end": 32, "label": "Treatment"}
    top = Finding(doc.id, "type", "relabel", 0.2, (Span(doc.id, 11, 32, "Treatment"),), (), {}, "x")
    assert in_context(top, doc, layer_of) is top                     # nothing of another layer around it


def test_layered_head_gives_each_layer_its_own_normalised_marginals(tmp_path):
    from spanqa.model.layered import run_kfold_layers
    from spanqa.model.plan import resolve

    layers = label_layers(CORPUS)
    cfg = resolve(load_config(overrides=TINY), CORPUS)[0]
    oofs = run_kfold_layers(CORPUS, cfg, layers, run_dir=tmp_path / "k", progress=False)
    assert len(oofs) == len(layers)
    for oof, labels in zip(oofs, layers):
        assert {t[2:] for t in oof.tags if t != "O"} == set(labels)
        for m in oof.docs.values():
            assert m.probs.shape[1] == len(oof.tags)
            assert abs(float(m.probs.sum(axis=1).mean()) - 1.0) < 1e-5
    again = run_kfold_layers(CORPUS, cfg, layers, run_dir=tmp_path / "k", progress=False)  # resumed, same values
    assert again[0].meta["resumed_folds"] == [0, 1]
    assert all((a.docs[d].probs == b.docs[d].probs).all() for a, b in zip(oofs, again) for d in a.docs)


def test_nested_finetune_audits_each_layer_on_its_own(tmp_path):
    res = audit(CORPUS, load_config(overrides=[*TINY, "train.mode=finetune", "train.epochs=1"]), out=tmp_path / "ft",
                progress=False)
    assert res.summary["plan"]["shared_head"] is False and res.summary["assessed"]["share"] == 1.0
    assert all((tmp_path / "ft" / x["run"] / "folds").is_dir() for x in res.summary["layers"])


def test_an_interrupted_layered_audit_resumes_to_the_same_findings(tmp_path):
    class Stop(Exception):
        pass

    def stop(k: int) -> None:
        if k == 0:
            raise Stop

    cfg = load_config(overrides=TINY)
    audit(CORPUS, cfg, out=tmp_path / "ref", progress=False)
    with pytest.raises(Stop):
        audit(CORPUS, cfg, out=tmp_path / "run", progress=False, on_fold_done=stop)
    assert (tmp_path / "run" / "layers" / "kfold" / "folds" / "fold_0.done").exists()
    res = audit(CORPUS, cfg, out=tmp_path / "run", progress=False)
    assert res.oof.meta["resumed_folds"] == [0]
    for name in ("spans.jsonl", "findings.jsonl", "predictions.jsonl"):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
