"""`quarry eval ...`: evaluation commands (registered by the CLI, imported only when run)."""

import argparse
import sys
from pathlib import Path

from agent.cli.arguments import positive_int
from agent.cli.exit_codes import EXIT_OK, EXIT_USAGE
from agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("eval", help="evaluate retrieval on a dataset", description="Evaluation commands.")
    sub = parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    retrieval = sub.add_parser(
        "retrieval",
        help="recall@k, nDCG@10, MRR for dense, bm25, kg, hybrid, hybrid_rerank and the LangChain peer",
        description="Ingest DATASET into its own corpus (schema eval_<name>) and score every retriever on its queries. "
        "DATASET is a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) or a HotpotQA .json/.jsonl file.",
    )
    retrieval.add_argument("dataset", type=Path)
    retrieval.add_argument("--limit", type=positive_int, help="evaluate only the first N queries")
    retrieval.add_argument("--out", type=Path, default=Path("eval/out"), help="report folder (default: eval/out)")
    retrieval.add_argument("--corpus", help="name of the evaluation corpus (default: the dataset's name)")
    retrieval.add_argument(
        "--max-documents", type=positive_int, metavar="N",
        help="quick run: keep the gold documents of the evaluated queries plus others up to N",
    )
    retrieval.add_argument("--no-peer", action="store_true", help="skip the LangChain EnsembleRetriever peer")
    retrieval.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from eval.errors import DatasetError
    from eval.run_retrieval import run_retrieval_eval

    try:
        run_retrieval_eval(settings, args.dataset, limit=args.limit, out_dir=args.out / _folder(args.dataset),
                           corpus=args.corpus, peer=not args.no_peer, max_documents=args.max_documents)
    except DatasetError as exc:
        print(f"quarry eval: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _folder(dataset: Path) -> str:
    return dataset.stem if dataset.is_file() else dataset.name
