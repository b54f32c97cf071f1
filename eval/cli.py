"""`quarry eval ...`: evaluation commands (registered by the CLI, imported only when run)."""

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import add_budget_arguments, limits_from, positive_int
from quarry.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from quarry.agent.settings import Settings

MAX_CONCURRENCY = 64


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "eval", help="evaluate retrieval or question answering on a dataset", description="Evaluation commands."
    )
    sub = parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    retrieval = sub.add_parser(
        "retrieval",
        help="recall@k, nDCG@10, both-gold@10 with 95%% intervals for dense, bm25, kg, hybrid, hybrid_rerank, "
        "rrf_equal and held-out fusion choices, on one set or every set in a folder",
        description="Ingest each set into its own corpus (schema eval_<name>) and score every retriever on its queries, "
        "then print ONE table (OUT/suite.md, OUT/suite.json) with bootstrap 95%% intervals. DATASET is a BEIR folder "
        "(corpus.jsonl, queries.jsonl, qrels/test.tsv), a HotpotQA-style .json/.jsonl file or folder, or a folder of "
        "such sets (e.g. ../shared/data: every set in it). Fusion weights are chosen by k-fold over each set's "
        "queries (fusion_kfold) and leave-one-dataset-out (fusion_lodo); figures come only from queries not used to "
        "choose. Multi-hop sets are pooled: the paragraphs of all evaluated questions form one corpus.",
    )
    retrieval.add_argument("dataset", type=Path)
    retrieval.add_argument("--limit", type=positive_int, help="evaluate only the first N queries")
    retrieval.add_argument("--out", type=Path, default=Path("eval/out"), help="report folder (default: eval/out)")
    retrieval.add_argument("--corpus", help="name of the evaluation corpus (default: the dataset's name)")
    retrieval.add_argument(
        "--max-documents",
        type=positive_int,
        metavar="N",
        help="quick run: keep the gold documents of the evaluated queries plus others up to N",
    )
    retrieval.add_argument("--no-peer", action="store_true", help="skip the LangChain EnsembleRetriever peer")
    retrieval.add_argument(
        "--folds",
        type=positive_int,
        default=5,
        help="k for the k-fold choice of fusion weights within a set (default 5)",
    )
    retrieval.add_argument("--seed", type=int, default=0, help="seed of the folds and the bootstrap (default 0)")
    retrieval.set_defaults(run=run, error_prefix="quarry eval")
    _register_qa(sub)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.eval.run_retrieval import run_retrieval_eval, run_suite

    if args.corpus:  # one named corpus: one set (a folder of sets is refused by the loader)
        run_retrieval_eval(
            settings,
            args.dataset,
            limit=args.limit,
            out_dir=args.out / _folder(args.dataset),
            corpus=args.corpus,
            peer=not args.no_peer,
            max_documents=args.max_documents,
        )
        return ExitCode.OK
    run_suite(
        settings,
        args.dataset,
        limit=args.limit,
        out_dir=args.out,
        peer=not args.no_peer,
        max_documents=args.max_documents,
        folds=args.folds,
        seed=args.seed,
    )
    return ExitCode.OK


def _folder(dataset: Path) -> str:
    from quarry.eval.datasets import dataset_name

    return dataset_name(dataset)


def _register_qa(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    qa = sub.add_parser(
        "qa",
        help="answer a dataset's questions with the research loop: EM/F1, evidence recall, citation precision, "
        "budget adherence, latency and cost",
        description="Ingest DATASET's documents into their own corpus (schema eval_<name>), run every question through "
        "the research loop under the budget, and write answers.jsonl, report.json, report.md and PNG plots. "
        "DATASET is a HotpotQA .json/.jsonl file (answers + supporting paragraphs), a BEIR folder (no answers: "
        "evidence metrics only) or a QA JSONL file {question, answers[, gold_sources, id]} with --documents.",
        epilog="Limits default to the research.budget section of config.yaml. Without ANTHROPIC_API_KEY the offline "
        "extractive model answers (no network, $0); it answers with whole sentences, so read 'contains answer' "
        "rather than exact match.",
    )
    qa.add_argument("dataset", type=Path)
    qa.add_argument("--limit", type=positive_int, metavar="N", help="only the first N questions")
    qa.add_argument(
        "--concurrency", type=positive_int, default=4, metavar="C", help="questions in flight at once (default 4)"
    )
    add_budget_arguments(qa)
    qa.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: eval/out/qa/<dataset name>)")
    qa.add_argument(
        "--resume", action="store_true", help="keep the answers already in DIR/answers.jsonl; answer the rest"
    )
    qa.add_argument("--corpus", metavar="NAME", help="name of the evaluation corpus (default: the dataset's name)")
    qa.add_argument(
        "--documents",
        type=Path,
        metavar="DIR",
        help="folder of Quarry documents a QA JSONL set is asked over (e.g. examples/corpus)",
    )
    qa.add_argument(
        "--max-documents",
        type=positive_int,
        metavar="N",
        help="quick run: keep the gold documents of the evaluated questions plus others up to N",
    )
    qa.add_argument(
        "--no-cache",
        action="store_true",
        help="research every question afresh (by default a repeated question is served from the semantic cache)",
    )
    qa.add_argument("--quiet", action="store_true", help="no progress on stderr")
    qa.set_defaults(run=run_qa, error_prefix="quarry eval qa")


def run_qa(args: argparse.Namespace, settings: "Settings") -> int:
    if args.concurrency > MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be at most {MAX_CONCURRENCY}, got {args.concurrency}")
    limits = limits_from(args, settings.research.budget)
    from quarry.eval.run_qa import QaOptions, run_qa_eval

    options = QaOptions(
        dataset=args.dataset,
        out_dir=args.out or Path("eval/out/qa") / _folder(args.dataset),
        limits=limits,
        limit=args.limit,
        concurrency=args.concurrency,
        resume=args.resume,
        corpus=args.corpus,
        documents=args.documents,
        max_documents=args.max_documents,
        quiet=args.quiet,
        use_cache=not args.no_cache,
    )
    run_qa_eval(settings, options)
    return ExitCode.OK
