"""Errors from LLM clients; each says which model failed, how, and after how many attempts."""


class LLMError(Exception):
    """The model refused the request (bad request, auth, permissions); retrying will not help."""


class LLMUnavailable(LLMError):
    """Transient failures (429, 529, 5xx, connection) outlasted the retries the deadline allowed."""


class LLMTimeout(LLMError):
    """No complete reply arrived before the deadline."""
