"""The LangGraph state machine (plan → search → rerank → synthesize → reflect → finalize) and the
budget controller every node runs under. Not built yet: see the research-loop issue."""

__all__: list[str] = []
