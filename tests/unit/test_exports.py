"""Each package's __all__ is exactly its public names, and each of them resolves."""

import importlib
import pkgutil

import pytest

PACKAGES = [
    "quarry",
    "quarry.agent",
    "quarry.agent.client",
    "quarry.agent.service",
    "quarry.corpus",
    "quarry.tools",
    "quarry.graph",
    "quarry.eval",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve(name: str):
    package = importlib.import_module(name)
    for exported in package.__all__:
        assert getattr(package, exported) is not None, f"{name}.{exported}"
    assert package.__all__ == sorted(package.__all__)


@pytest.mark.parametrize("name", ["quarry.agent", "quarry.corpus", "quarry.tools"])
def test_every_public_class_and_error_of_the_package_is_exported(name: str):
    package = importlib.import_module(name)
    public = set()
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{name}.{info.name}")
        for attr, value in vars(module).items():
            if attr.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if isinstance(value, type) and (attr.endswith(("Error", "Config")) or attr in package.__all__):
                public.add(attr)
    assert public <= set(package.__all__)


def test_unknown_attribute_is_an_attribute_error():
    import quarry.corpus

    with pytest.raises(AttributeError, match=r"module 'quarry\.corpus' has no attribute 'Nope'"):
        quarry.corpus.Nope  # noqa: B018
