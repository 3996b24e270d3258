"""Retrieval evaluation on the labelled demo set: recall@k, MRR and abstention, per ranking.

The set (``eval/demo_retrieval.yml``) labels each answerable question with the company, the
document kind (or ``help:<page>``, a product help page) and a distinctive passage of the
answer; a retrieved chunk is relevant when it is from that company's document (or that help
page) and contains the passage. Unanswerable questions measure abstention (``confident``
false). ``eval/demo_heldout.yml`` is a second set in the same format that nothing is fitted
on: the abstention rule is fitted on the first and judged on it. Rankings compared:
``dense`` (embeddings only), ``sparse`` (BM25 only) and ``hybrid`` (both, reciprocal rank
fusion).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from companion.knowledge.retrieval import ChunkDoc, RetrievalResult, Retriever

MODES = ("dense", "sparse", "hybrid")
DEMO_SET = "knowledge/eval/demo_retrieval.yml"
HELDOUT_SET = "knowledge/eval/demo_heldout.yml"
HELP_PREFIX = "help:"
# Company ids the evaluation corpus uses for the two demo companies.
DEMO_COMPANY_IDS = {"acme": 1, "globex": 2}


@dataclass(frozen=True)
class Question:
    """One labelled question; ``document`` None means the documents hold no answer."""

    text: str
    company: str
    document: str | None = None
    passage: str | None = None

    @property
    def answerable(self) -> bool:
        """Whether a passage of the documents answers it."""
        return self.document is not None


@dataclass(frozen=True)
class EvalSet:
    """Answerable and unanswerable questions."""

    answerable: list[Question]
    unanswerable: list[Question]


def load_set(path: Path | None = None, *, shipped: str = DEMO_SET) -> EvalSet:
    """Read a labelled set (default: the shipped demo set; ``shipped=HELDOUT_SET``)."""
    if path is None:
        text = resources.files("companion").joinpath(shipped).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    answerable = [
        Question(str(q["q"]), str(q["company"]), str(q["document"]), str(q["passage"]))
        for q in data.get("answerable", [])
    ]
    unanswerable = [Question(str(q["q"]), str(q["company"])) for q in data.get("unanswerable", [])]
    return EvalSet(answerable=answerable, unanswerable=unanswerable)


_EMPHASIS = re.compile(r"[*_`]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, Markdown emphasis removed, whitespace collapsed (for passage matching)."""
    return _SPACE.sub(" ", _EMPHASIS.sub("", text)).strip().lower()


def help_chunks(
    chunker: Callable[[str, str], list[tuple[str | None, str]]] | None = None,
    *,
    first_id: int = 1000,
) -> list[ChunkDoc]:
    """The shipped help pages as global chunks (company None), titled as ingestion titles them."""
    from companion.knowledge.parsers import parse_markdown
    from companion.knowledge.service import global_corpus

    cut = chunker or default_chunker
    chunks: list[ChunkDoc] = []
    for number, (name, text) in enumerate(global_corpus(), start=first_id):
        parsed = parse_markdown(text)
        title = parsed.title or name.removesuffix(".md")
        topic = parsed.meta.get("topic")
        for ordinal, (section, body) in enumerate(cut(parsed.text, title)):
            chunks.append(
                ChunkDoc(
                    chunk_id=f"kb_{number}#{ordinal}",
                    document_id=number,
                    company_id=None,
                    roles=(),
                    title=title,
                    section=section,
                    text=body,
                    source_url=f"help/{name}",
                    doc_type=str(parsed.meta.get("type") or "GUIDE").upper(),
                    topic=str(topic) if topic else None,
                )
            )
    return chunks


def default_chunker(text: str, title: str) -> list[tuple[str | None, str]]:
    """Sections and texts of ``text`` as ingestion chunks it by default."""
    from companion.config import RagSettings
    from companion.knowledge.chunking import ChunkingOptions, chunk_document

    options = ChunkingOptions.from_settings(RagSettings())  # ingestion's default options
    return [(c.section, c.text) for c in chunk_document(text, title=title, options=options)]


def is_relevant(chunk: ChunkDoc, question: Question) -> bool:
    """The chunk is from the labelled company's document (or help page) and has the passage."""
    if question.passage is None or question.document is None:
        return False
    if question.document.startswith(HELP_PREFIX):
        page = question.document.removeprefix(HELP_PREFIX)
        if chunk.company_id is not None or chunk.source_url != f"help/{page}.md":
            return False
    elif chunk.topic != question.document or chunk.company_id != DEMO_COMPANY_IDS.get(
        question.company
    ):
        return False
    return normalise(question.passage) in normalise(chunk.text)


@dataclass
class ModeReport:
    """Figures of one ranking mode."""

    mode: str
    recall_at_k: float
    mrr: float
    k: int
    misses: list[str] = field(default_factory=list)


@dataclass
class AbstentionReport:
    """Abstention at one threshold (positive class: 'not in the documents')."""

    threshold: float
    precision: float
    recall: float
    answered_rate: float  # answerable questions that were answered (not abstained)


@dataclass
class Report:
    """Everything ``evaluate`` measured."""

    modes: dict[str, ModeReport]
    abstention: AbstentionReport
    answerable_scores: list[float]
    unanswerable_scores: list[float]
    questions: int
    unanswerable: int
    # What the user sees: the extractive answer says "not in your documents" (or answers).
    answer_abstention: AbstentionReport | None = None
    # The best chunk's cosine per question, in the order of the scores (the floor's input).
    answerable_top_dense: list[float] = field(default_factory=list)
    unanswerable_top_dense: list[float] = field(default_factory=list)
    # The parts of the confidence, per question, to fit the weight and the rule on.
    answerable_evidence: Evidence | None = None
    unanswerable_evidence: Evidence | None = None


def _rank_of_first_relevant(hits: Iterable[ChunkDoc], question: Question) -> int | None:
    for rank, chunk in enumerate(hits, start=1):
        if is_relevant(chunk, question):
            return rank
    return None


def evaluate(
    retriever: Retriever,
    eval_set: EvalSet,
    *,
    k: int = 5,
    mrr_depth: int = 10,
    threshold: float | None = None,
    modes: Sequence[str] = MODES,
) -> Report:
    """Recall@k and MRR@mrr_depth per mode, and abstention at ``threshold``."""
    from companion.knowledge.answers import extractive_answer

    threshold = retriever.confidence_threshold if threshold is None else threshold
    reports: dict[str, ModeReport] = {}
    answerable_scores: list[float] = []
    answerable_dense: list[float] = []
    answerable_parts: list[RetrievalResult] = []
    answered: list[bool] = []
    for mode in modes:
        found = 0
        reciprocal = 0.0
        misses: list[str] = []
        for question in eval_set.answerable:
            result = retriever.search(
                question.text,
                company_id=DEMO_COMPANY_IDS[question.company],
                roles=(),
                k=max(k, mrr_depth),
                mode=mode,
            )
            if mode == modes[-1]:
                answerable_scores.append(result.confidence)
                answerable_dense.append(result.top_dense)
                answerable_parts.append(result)
                answered.append(extractive_answer(question.text, result).found)
            rank = _rank_of_first_relevant((h.chunk for h in result.hits), question)
            if rank is not None and rank <= k:
                found += 1
            else:
                misses.append(question.text)
            if rank is not None:
                reciprocal += 1.0 / rank
        total = max(len(eval_set.answerable), 1)
        reports[mode] = ModeReport(mode, found / total, reciprocal / total, k, misses)
    unanswerable_scores: list[float] = []
    unanswerable_dense: list[float] = []
    unanswerable_parts: list[RetrievalResult] = []
    wrongly_answered: list[bool] = []
    for q in eval_set.unanswerable:
        result = retriever.search(q.text, company_id=DEMO_COMPANY_IDS[q.company], roles=(), k=k)
        unanswerable_scores.append(result.confidence)
        unanswerable_dense.append(result.top_dense)
        unanswerable_parts.append(result)
        wrongly_answered.append(extractive_answer(q.text, result).found)
    rule = Rule(threshold, retriever.min_top_dense)
    return Report(
        modes=reports,
        abstention=rule_abstention(
            Scores(answerable_scores, answerable_dense),
            Scores(unanswerable_scores, unanswerable_dense),
            rule,
        ),
        answerable_scores=answerable_scores,
        unanswerable_scores=unanswerable_scores,
        questions=len(eval_set.answerable),
        unanswerable=len(eval_set.unanswerable),
        answer_abstention=decision_abstention(answered, wrongly_answered),
        answerable_top_dense=answerable_dense,
        unanswerable_top_dense=unanswerable_dense,
        answerable_evidence=Evidence.of(answerable_parts),
        unanswerable_evidence=Evidence.of(unanswerable_parts),
    )


def decision_abstention(
    answerable: Sequence[bool], unanswerable: Sequence[bool]
) -> AbstentionReport:
    """Abstention from yes/no decisions (True = answered), e.g. the extractive answer's."""
    return abstention(
        [1.0 if a else 0.0 for a in answerable], [1.0 if a else 0.0 for a in unanswerable], 0.5
    )


def abstention(
    answerable: Sequence[float], unanswerable: Sequence[float], threshold: float
) -> AbstentionReport:
    """Precision and recall of abstaining (score below ``threshold``)."""
    abstained_right = sum(1 for s in unanswerable if s < threshold)
    abstained_wrong = sum(1 for s in answerable if s < threshold)
    abstained = abstained_right + abstained_wrong
    return AbstentionReport(
        threshold=threshold,
        precision=abstained_right / abstained if abstained else 1.0,
        recall=abstained_right / len(unanswerable) if unanswerable else 1.0,
        answered_rate=1.0 - abstained_wrong / len(answerable) if answerable else 1.0,
    )


def calibrate(
    answerable: Sequence[float], unanswerable: Sequence[float], *, min_precision: float = 0.9
) -> float:
    """The threshold with the best abstention F1 among those with precision >= ``min_precision``.

    Candidates are midpoints between consecutive observed scores; ties go to the lower
    threshold (fewer answerable questions refused). Falls back to the best F1 overall.
    """
    scores = sorted(set(answerable) | set(unanswerable))
    candidates = [(a + b) / 2 for a, b in zip(scores, scores[1:], strict=False)] or [0.0]
    best: tuple[float, float] | None = None
    fallback: tuple[float, float] | None = None
    for threshold in candidates:
        report = abstention(answerable, unanswerable, threshold)
        denominator = report.precision + report.recall
        f1 = 2 * report.precision * report.recall / denominator if denominator else 0.0
        if fallback is None or f1 > fallback[0]:
            fallback = (f1, threshold)
        if report.precision >= min_precision and (best is None or f1 > best[0]):
            best = (f1, threshold)
    chosen = best or fallback
    assert chosen is not None
    return chosen[1]


def leave_one_out_abstention(
    answerable: Sequence[float], unanswerable: Sequence[float], *, min_precision: float = 0.9
) -> AbstentionReport:
    """Abstention where each question is judged by a threshold calibrated without it."""
    abstained_right = abstained_wrong = 0
    for i, score in enumerate(answerable):
        rest = list(answerable[:i]) + list(answerable[i + 1 :])
        if score < calibrate(rest, unanswerable, min_precision=min_precision):
            abstained_wrong += 1
    for i, score in enumerate(unanswerable):
        rest = list(unanswerable[:i]) + list(unanswerable[i + 1 :])
        if score < calibrate(answerable, rest, min_precision=min_precision):
            abstained_right += 1
    abstained = abstained_right + abstained_wrong
    return AbstentionReport(
        threshold=float("nan"),
        precision=abstained_right / abstained if abstained else 1.0,
        recall=abstained_right / len(unanswerable) if unanswerable else 1.0,
        answered_rate=1.0 - abstained_wrong / len(answerable) if answerable else 1.0,
    )


def cross_validated_abstention(
    retriever: Retriever, eval_set: EvalSet, *, k: int = 5, floor: bool = True
) -> dict[str, AbstentionReport]:
    """Leave one company out: fit the rule on one company's questions, judge the other's."""
    out: dict[str, AbstentionReport] = {}
    scored: dict[str, tuple[Scores, Scores]] = {}
    for company, company_id in DEMO_COMPANY_IDS.items():
        sides = []
        for questions in (eval_set.answerable, eval_set.unanswerable):
            results = [
                retriever.search(q.text, company_id=company_id, roles=(), k=k)
                for q in questions
                if q.company == company
            ]
            sides.append(Scores([r.confidence for r in results], [r.top_dense for r in results]))
        scored[company] = (sides[0], sides[1])
    for train, test in (("acme", "globex"), ("globex", "acme")):
        rule = fit_rule(*scored[train], floor=floor)
        out[f"{train}->{test}"] = rule_abstention(*scored[test], rule)
    return out


# How far under the lowest answerable best-chunk cosine the fitted floor sits.
FLOOR_MARGIN = 0.005


@dataclass(frozen=True)
class Scores:
    """Per question: the confidence and the best chunk's cosine (same order)."""

    confidence: list[float]
    top_dense: list[float]

    def without(self, i: int) -> Scores:
        """The same scores without question ``i``."""
        return Scores(
            self.confidence[:i] + self.confidence[i + 1 :],
            self.top_dense[:i] + self.top_dense[i + 1 :],
        )


@dataclass(frozen=True)
class Rule:
    """``confident`` iff top_dense >= floor (when set) and confidence >= threshold."""

    threshold: float
    floor: float | None = None

    def gated(self, scores: Scores) -> list[float]:
        """Confidences, with questions under the floor pushed below any threshold."""
        floor = self.floor
        return [
            c if floor is None or d >= floor else -2.0
            for c, d in zip(scores.confidence, scores.top_dense, strict=True)
        ]


def fit_rule(
    answerable: Scores, unanswerable: Scores, *, min_precision: float = 0.9, floor: bool = True
) -> Rule:
    """The floor just under every answerable question's best cosine, then the threshold.

    The floor refuses no answerable question of the fitting set (precision first); the
    threshold is ``calibrate``'d on the confidences of what passes it.
    """
    fitted = None
    if floor and answerable.top_dense:
        fitted = math.floor((min(answerable.top_dense) - FLOOR_MARGIN) * 100) / 100
    probe = Rule(0.0, fitted)
    threshold = calibrate(
        probe.gated(answerable), probe.gated(unanswerable), min_precision=min_precision
    )
    return Rule(threshold, fitted)


def rule_abstention(answerable: Scores, unanswerable: Scores, rule: Rule) -> AbstentionReport:
    """Abstention precision / recall of a rule."""
    report = abstention(rule.gated(answerable), rule.gated(unanswerable), rule.threshold)
    return report


def leave_one_out_rule(
    answerable: Scores, unanswerable: Scores, *, floor: bool = True
) -> AbstentionReport:
    """Abstention where each question is judged by a rule fitted without it."""
    wrong = sum(
        1
        for i in range(len(answerable.confidence))
        if _abstains(answerable, i, fit_rule(answerable.without(i), unanswerable, floor=floor))
    )
    right = sum(
        1
        for i in range(len(unanswerable.confidence))
        if _abstains(unanswerable, i, fit_rule(answerable, unanswerable.without(i), floor=floor))
    )
    total_a, total_u = len(answerable.confidence), len(unanswerable.confidence)
    return AbstentionReport(
        threshold=float("nan"),
        precision=right / (right + wrong) if right + wrong else 1.0,
        recall=right / total_u if total_u else 1.0,
        answered_rate=1.0 - wrong / total_a if total_a else 1.0,
    )


def _abstains(scores: Scores, i: int, rule: Rule) -> bool:
    one = Scores([scores.confidence[i]], [scores.top_dense[i]])
    return rule.gated(one)[0] < rule.threshold


@dataclass(frozen=True)
class Evidence:
    """Per question: best sentence cosine, topic coverage, best chunk cosine (same order)."""

    sentence: list[float]
    coverage: list[float]
    top_dense: list[float]

    @classmethod
    def of(cls, results: Sequence[RetrievalResult]) -> Evidence:
        """The parts of each result's confidence."""
        return cls(
            [r.evidence for r in results],
            [r.coverage for r in results],
            [r.top_dense for r in results],
        )

    def scores(self, weight: float) -> Scores:
        """Confidences ``sentence + weight * coverage`` (and the best chunk cosines)."""
        return Scores(
            [s + weight * c for s, c in zip(self.sentence, self.coverage, strict=True)],
            list(self.top_dense),
        )

    def where(self, keep: Sequence[bool]) -> Evidence:
        """Only the questions where ``keep`` is true."""
        return Evidence(
            [v for v, k in zip(self.sentence, keep, strict=True) if k],
            [v for v, k in zip(self.coverage, keep, strict=True) if k],
            [v for v, k in zip(self.top_dense, keep, strict=True) if k],
        )


# Coverage weights ``fit_evidence_rule`` chooses among.
WEIGHTS = (0.3, 0.5, 0.7, 1.0)


@dataclass(frozen=True)
class EvidenceRule:
    """The fitted coverage weight and rule, with the leave-one-out figures that chose them."""

    weight: float
    rule: Rule
    loo: AbstentionReport

    def judge_scores(self, evidence: Evidence) -> list[float]:
        """The rule's gated confidences of ``evidence`` (below ``rule.threshold``: refused)."""
        return self.rule.gated(evidence.scores(self.weight))

    def judge(self, answerable: Evidence, unanswerable: Evidence) -> AbstentionReport:
        """Abstention of this rule on other questions."""
        return rule_abstention(
            answerable.scores(self.weight), unanswerable.scores(self.weight), self.rule
        )


def f1(report: AbstentionReport) -> float:
    """Harmonic mean of abstention precision and recall."""
    total = report.precision + report.recall
    return 2 * report.precision * report.recall / total if total else 0.0


def fit_evidence_rule(
    answerable: Evidence,
    unanswerable: Evidence,
    *,
    weights: Sequence[float] = WEIGHTS,
    min_precision: float = 0.9,
) -> EvidenceRule:
    """Choose the coverage weight and the floor by leave-one-out, then ``fit_rule`` on all.

    Each (weight, floor) is judged by its leave-one-out abstention on the fitting set: the
    best F1 among those with precision >= ``min_precision`` (else the best F1); ties go to
    no floor, then the smaller weight.
    """
    best: tuple[tuple[bool, float, int, float], float, bool, AbstentionReport] | None = None
    for weight in weights:
        a, u = answerable.scores(weight), unanswerable.scores(weight)
        for floor in (False, True):
            loo = leave_one_out_rule(a, u, floor=floor)
            key = (loo.precision >= min_precision, round(f1(loo), 9), -int(floor), -weight)
            if best is None or key > best[0]:
                best = (key, weight, floor, loo)
    assert best is not None
    _, weight, floor, loo = best
    rule = fit_rule(
        answerable.scores(weight),
        unanswerable.scores(weight),
        min_precision=min_precision,
        floor=floor,
    )
    return EvidenceRule(weight, rule, loo)


def by_company(
    eval_set: EvalSet, answerable: Evidence, unanswerable: Evidence, company: str
) -> tuple[Evidence, Evidence]:
    """One company's questions of an evaluated set (``evaluate``'s order)."""
    return (
        answerable.where([q.company == company for q in eval_set.answerable]),
        unanswerable.where([q.company == company for q in eval_set.unanswerable]),
    )
