"""SYNTHETIC HotpotQA-format data: two-hop bridge questions over invented entities, for timing only.

No real HotpotQA set is present in ../shared/data, so this generator exists to measure one goal:
`quarry eval qa` on 200 HotpotQA-format questions with the offline model finishes within 10 minutes,
ingestion included, with zero budget violations. Its scores say nothing about real multi-hop QA.

Each question chains two facts ("Which city is the headquarters of the company that makes the
Orvane X2?": the Orvane X2 is made by Tessaly Industries; Tessaly Industries is headquartered in
Brindlemoor). Its context holds the 2 supporting paragraphs and 8 distractors written from the same
templates (4 of each entity kind, linked to each other the same way), 10 paragraphs per question
as in HotpotQA's distractor setting, every one about an entity of its own. Deterministic for a seed.

Run: `python -m bench.synthetic_hotpot --questions 200 --out /tmp/synth.json [--seed 7]`
(default output bench/out/synthetic-hotpot-<N>.json). Record ids are `synthetic-0001`….
"""

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

_AN = re.compile(r"\ba ([aeiouAEIOU])")
_SYLLABLES = """
    or van tes sa ly brin dle mar ko vel ith an dra quen tor ul ser phi ra no gal mi zen ka lo bre thi us cor
    ves ald rin hal mor pe dun wyn ce ta bel ros fen ild arc tam oss ne
""".split()
_PLACE_ENDINGS = ("moor", "ford", "haven", "wick", "bury", "holm", "stead", "mouth", "vale", "gate")
_COMPANY_SUFFIXES = ("Industries", "Corporation", "Labs", "Systems", "Works", "Group")
_ADJECTIVES = """
    Silent Hollow Crimson Distant Broken Golden Quiet Northern Restless Velvet Burning Frozen Hidden Last
    Wandering Bitter Pale Endless Gentle Iron Lonely Scarlet Shining Sleeping Wild Amber Glass Paper Salt
    Winter
""".split()
_NOUNS = """
    Orchard Harbor Lantern River Garden Signal Meridian Compass Tower Meadow Archive Voyage Ember Mirror
    Canyon Frontier Orbit Island Citadel Cascade Horizon Tide Forest Bridge Window Letter Season Engine Crown
    Anchor
""".split()
_CATEGORIES = (
    "handheld scanner",
    "electric bicycle",
    "drone",
    "espresso machine",
    "smartwatch",
    "3D printer",
    "e-reader",
)
_INDUSTRIES = ("electronics", "robotics", "logistics", "optics", "battery", "aerospace", "software")
_FEATURES = ("battery life", "sturdy casing", "quiet motor", "bright display", "low price", "light weight")
_GENRES_FILM = ("drama", "thriller", "science fiction", "comedy", "documentary", "western")
_GENRES_BOOK = ("mystery", "historical", "fantasy", "crime", "literary", "adventure")
_GENRES_MUSIC = ("folk", "jazz", "post-rock", "synth-pop", "blues", "indie rock")
_PROFESSIONS = ("film director", "novelist", "screenwriter", "essayist", "playwright")
_UNIVERSITY_FORMS = ("{} University", "{} College", "{} Institute of Technology", "University of {}")

# Paragraph templates: sentence templates over an entity's attributes. `name` is the entity's title.
_TEMPLATES = {
    "product": (
        "The {name} is a {category} made by {maker}.",
        "It was first released in {year}.",
        "Reviewers praised its {feature}.",
    ),
    "company": (
        "{name} is a {industry} company headquartered in {city}.",
        "It was founded by {founder} in {year}.",
        "The company employs about {staff} people.",
    ),
    "film": (
        "{name} is a {year} {genre} film directed by {director}.",
        "It runs {minutes} minutes.",
        "Most of it was shot on location in {location}.",
    ),
    "person": (
        "{name} is a {profession} born in {birthplace}.",
        "{surname} studied at {university}.",
        "{surname} has lived in {residence} since {year}.",
    ),
    "book": (
        "{name} is a {genre} novel written by {author}.",
        "It was published in {year}.",
        "The story is set in {setting}.",
    ),
    "band": ("{name} is a {genre} band formed in {city} in {year}.", "The band has released {count} studio albums."),
    "album": ("{name} is a studio album by {band}, released in {year}.", "It was recorded in {studio}."),
}


@dataclass(frozen=True)
class _Chain:
    question: str
    first: str
    link: str
    """Attribute of the first entity naming the bridge entity."""
    bridge: str
    answer: str
    """Attribute of the bridge entity holding the answer."""


_CHAINS = (
    _Chain("Which city is the headquarters of the company that makes the {}?", "product", "maker", "company", "city"),
    _Chain("In which city was the director of {} born?", "film", "director", "person", "birthplace"),
    _Chain("Which university did the author of {} attend?", "book", "author", "person", "university"),
    _Chain("In which city was the band that recorded {} formed?", "album", "band", "band", "city"),
    _Chain("Who founded the company that makes the {}?", "product", "maker", "company", "founder"),
    _Chain("Which university did the director of {} attend?", "film", "director", "person", "university"),
    _Chain("Where was the author of {} born?", "book", "author", "person", "birthplace"),
)


@dataclass
class _World:
    rng: random.Random
    taken: set[str] = field(default_factory=set)
    cities: list[str] = field(default_factory=list)
    universities: list[str] = field(default_factory=list)

    def unique(self, make) -> str:
        for _ in range(1000):
            name = make()
            if name not in self.taken:
                self.taken.add(name)
                return name
        raise RuntimeError("ran out of fictional names")

    def word(self, syllables: int) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()

    def person(self) -> str:
        return self.unique(lambda: f"{self.word(2)} {self.word(self.rng.choice((2, 3)))}")

    def city(self) -> str:
        return self.rng.choice(self.cities)

    def university(self) -> str:
        return self.rng.choice(self.universities)

    def year(self) -> int:
        return self.rng.randint(1950, 2023)

    def entity(self, kind: str, **fixed: str) -> tuple[str, dict[str, object]]:
        """A new entity of `kind` with a fresh name, its attributes random unless `fixed`."""
        rng = self.rng
        if kind == "product":
            name = self.unique(lambda: f"{self.word(2)} {rng.choice('XVRTQZ')}{rng.randint(1, 9)}")
            attrs = {
                "category": rng.choice(_CATEGORIES),
                "maker": "",
                "year": self.year(),
                "feature": rng.choice(_FEATURES),
            }
        elif kind == "company":
            name = self.unique(lambda: f"{self.word(2)} {rng.choice(_COMPANY_SUFFIXES)}")
            attrs = {
                "industry": rng.choice(_INDUSTRIES),
                "city": self.city(),
                "founder": self.person(),
                "year": self.year(),
                "staff": f"{rng.randint(2, 90) * 100:,}",
            }
        elif kind == "film":
            name = self.unique(lambda: f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}")
            attrs = {
                "year": self.year(),
                "genre": rng.choice(_GENRES_FILM),
                "director": "",
                "minutes": rng.randint(80, 170),
                "location": self.city(),
            }
        elif kind == "person":
            name = self.person()
            attrs = {
                "profession": rng.choice(_PROFESSIONS),
                "birthplace": self.city(),
                "university": self.university(),
                "surname": name.split()[-1],
                "residence": self.city(),
                "year": self.year(),
            }
        elif kind == "book":
            name = self.unique(lambda: f"The {rng.choice(_NOUNS)} of {self.word(2)}")
            attrs = {"genre": rng.choice(_GENRES_BOOK), "author": "", "year": self.year(), "setting": self.city()}
        elif kind == "band":
            name = self.unique(lambda: f"The {self.word(2)}s")
            attrs = {
                "genre": rng.choice(_GENRES_MUSIC),
                "city": self.city(),
                "year": self.year(),
                "count": rng.randint(2, 9),
            }
        elif kind == "album":
            name = self.unique(lambda: f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}s")
            attrs = {"band": "", "year": self.year(), "studio": self.city()}
        else:
            raise ValueError(kind)
        attrs.update(fixed)
        return name, attrs


def generate(questions: int, seed: int = 7) -> list[dict]:
    """`questions` HotpotQA-format records (bridge type), deterministic for `seed`."""
    world = _World(random.Random(seed))
    world.cities = [world.unique(lambda: world.word(2) + world.rng.choice(_PLACE_ENDINGS)) for _ in range(80)]
    world.universities = [
        world.unique(lambda: world.rng.choice(_UNIVERSITY_FORMS).format(world.word(2))) for _ in range(30)
    ]
    records = []
    for index in range(questions):
        chain = _CHAINS[index % len(_CHAINS)]
        bridge, bridge_attrs = world.entity(chain.bridge)
        first, first_attrs = world.entity(chain.first, **{chain.link: bridge})
        paragraphs = [
            (first, _sentences(chain.first, first, first_attrs)),
            (bridge, _sentences(chain.bridge, bridge, bridge_attrs)),
        ]
        for _ in range(4):  # distractors: the same two kinds, linked to each other the same way
            other, other_attrs = world.entity(chain.bridge)
            paragraphs.append((other, _sentences(chain.bridge, other, other_attrs)))
            decoy, decoy_attrs = world.entity(chain.first, **{chain.link: other})
            paragraphs.append((decoy, _sentences(chain.first, decoy, decoy_attrs)))
        supporting = [
            [first, _fact_sentence(chain.first, chain.link)],
            [bridge, _fact_sentence(chain.bridge, chain.answer)],
        ]
        world.rng.shuffle(paragraphs)
        records.append(
            {
                "_id": f"synthetic-{index + 1:04d}",
                "question": chain.question.format(first),
                "answer": str(bridge_attrs[chain.answer]),
                "type": "bridge",
                "level": "synthetic",
                "supporting_facts": supporting,
                "context": [[title, sentences] for title, sentences in paragraphs],
            }
        )
    return records


def _sentences(kind: str, name: str, attrs: dict[str, object]) -> list[str]:
    return [_AN.sub(r"an \1", template.format(name=name, **attrs)) for template in _TEMPLATES[kind]]


def _fact_sentence(kind: str, attribute: str) -> int:
    return next(i for i, template in enumerate(_TEMPLATES[kind]) if "{" + attribute + "}" in template)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a SYNTHETIC HotpotQA-format file of two-hop bridge questions.")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="output .json (default bench/out/synthetic-hotpot-<N>.json)")
    args = parser.parse_args(argv)
    if args.questions < 1:
        parser.error("--questions must be at least 1")
    out = args.out or Path("bench/out") / f"synthetic-hotpot-{args.questions}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    records = generate(args.questions, args.seed)
    out.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    documents = len({title for record in records for title, _ in record["context"]})
    print(f"wrote {len(records)} SYNTHETIC HotpotQA-format questions ({documents} paragraphs) to {out}")


if __name__ == "__main__":
    main()
