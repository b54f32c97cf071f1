"""Spend as a value: tokens, dollars and calls, in total and per node; `merge` is its reducer."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from quarry.tools.llm.pricing import Usage


@dataclass(frozen=True)
class NodeSpend:
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    calls: int = 0

    def __add__(self, other: "NodeSpend") -> "NodeSpend":
        return NodeSpend(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.usd + other.usd,
            self.calls + other.calls,
        )

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


_EMPTY: Mapping[str, NodeSpend] = MappingProxyType({})


@dataclass(frozen=True)
class Spend:
    by_node: Mapping[str, NodeSpend] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def of(cls, node: str, usage: Usage, usd: float) -> "Spend":
        billed_input = usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens
        return cls(MappingProxyType({node: NodeSpend(billed_input, usage.output_tokens, usd, 1)}))

    @staticmethod
    def merge(left: "Spend | None", right: "Spend | None") -> "Spend":
        """LangGraph reducer: parallel branches each add their own spend; nothing is lost or doubled."""
        if not left:
            return right or Spend()
        if not right:
            return left
        combined = dict(left.by_node)
        for node, spent in right.by_node.items():
            combined[node] = combined.get(node, NodeSpend()) + spent
        return Spend(MappingProxyType(dict(sorted(combined.items()))))

    def total(self) -> NodeSpend:
        result = NodeSpend()
        for spent in self.by_node.values():
            result = result + spent
        return result

    @property
    def usd(self) -> float:
        return self.total().usd

    @property
    def tokens(self) -> int:
        return self.total().tokens

    def __bool__(self) -> bool:
        return bool(self.by_node)
