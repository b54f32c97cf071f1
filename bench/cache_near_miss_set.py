"""The labelled near-miss set for the cache guard: `python -m bench.cache_near_miss_set` writes
bench/data/cache_near_miss.jsonl (deterministic; the file is committed, this is how it was made).

Each seed is a question written by hand with its true paraphrases (should hit) and the edits that
make it a different question (must miss): an antonym, a one- or two-letter look-alike, a negation,
and where the question has them a role reversal or a relation swap. Number, year, month and name
swaps are made by rule from the seed. Every pair carries its seed, so the benchmark splits by seed
(a seed's words never appear on both sides of the split) and the held-out words are new to the rule.

None of the words was chosen against the guard: the seeds were written first, from everyday
research questions over many domains. The guard was revised once after the first scoring, from the
errors on the tuning half only (role reversals without names, fronted phrases, copulas, "in may").
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "cache_near_miss.jsonl"


@dataclass(frozen=True)
class Seed:
    q: str
    para: tuple[str, ...]
    ant: tuple[str, str] | None = None
    look: tuple[str, str] | None = None
    neg: str | None = None
    role: str | None = None
    relation: str | None = None
    more: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())
    """(question, kind) further near misses written by hand."""


SEEDS = [
    Seed(
        "Is the Kittiwake safe to sail?",
        ("Is it safe to sail the Kittiwake?", "Is the Kittiwake safe for sailing?"),
        ("safe", "dangerous"),
        ("sail", "sell"),
        "Is the Kittiwake not safe to sail?",
        extra=(("Is the Kittiwake unsafe to sail?", "antonym"),),
    ),
    Seed(
        "Which vendors were contacted in March 2024?",
        ("In March 2024, which vendors were contacted?", "Which vendors got contacted in March 2024?"),
        ("contacted", "ignored"),
        ("contacted", "contracted"),
        "Which vendors were not contacted in March 2024?",
    ),
    Seed(
        "Which design documents were reviewed by the security team?",
        (
            "Which design documents did the security team review?",
            "Which design documents has the security team reviewed?",
        ),
        ("reviewed", "ignored"),
        ("reviewed", "revised"),
        "Which design documents were never reviewed by the security team?",
        role="Which design documents reviewed the security team?",
    ),
    Seed(
        "Who was promoted after the 2023 reorganisation?",
        ("Who got promoted after the 2023 reorganisation?", "After the 2023 reorganisation, who was promoted?"),
        ("promoted", "demoted"),
        ("promoted", "prompted"),
        "Who was not promoted after the 2023 reorganisation?",
        relation="Who was promoted before the 2023 reorganisation?",
    ),
    Seed(
        "How much did the Harbor Bridge repair cost?",
        ("What did the Harbor Bridge repair cost?", "How much was the cost of the Harbor Bridge repair?"),
        ("repair", "demolition"),
        ("cost", "cast"),
        "How much did the Harbor Bridge repair not cost?",
    ),
    Seed(
        "Why was the Frankfurt office closed?",
        ("For what reason was the Frankfurt office closed?", "Why did they close the Frankfurt office?"),
        ("closed", "opened"),
        ("closed", "cloned"),
        "Why was the Frankfurt office not closed?",
    ),
    Seed(
        "Which engineers were hired in 2022?",
        ("Which engineers got hired in 2022?", "In 2022, which engineers were hired?"),
        ("hired", "fired"),
        ("hired", "hided"),
        "Which engineers were not hired in 2022?",
        more="Which engineers were hired in 2022 and later left?",
    ),
    Seed(
        "What is the causal link between sleep and memory?",
        ("What is the causal link between memory and sleep?", "What causal link is there between sleep and memory?"),
        ("causal", "spurious"),
        ("causal", "casual"),
        "What is not the causal link between sleep and memory?",
    ),
    Seed(
        "Did revenue increase in the third quarter?",
        ("Did revenue increase during the third quarter?", "In the third quarter, did revenue increase?"),
        ("increase", "decrease"),
        ("revenue", "revenge"),
        "Did revenue not increase in the third quarter?",
        extra=(("Did revenue increase in the fourth quarter?", "number"),),
    ),
    Seed(
        "Which services depend on the Keel broker?",
        ("Which services are dependent on the Keel broker?", "Which service depends on the Keel broker?"),
        ("depend", "ignore"),
        ("depend", "defend"),
        "Which services do not depend on the Keel broker?",
        role="Which services does the Keel broker depend on?",
    ),
    Seed(
        "Who approved the Q3 budget?",
        ("Who was the approver of the Q3 budget?", "The Q3 budget was approved by whom?"),
        ("approved", "rejected"),
        ("approved", "improved"),
        "Who never approved the Q3 budget?",
    ),
    Seed(
        "What is the maximum upload size for Beacon?",
        ("What is Beacon's maximum upload size?", "For Beacon, what is the maximum upload size?"),
        ("maximum", "minimum"),
        ("upload", "unload"),
        "What is not the maximum upload size for Beacon?",
    ),
    Seed(
        "Which countries import wheat from Ukraine?",
        (
            "Which countries import wheat from Ukraine?".replace("countries", "nations"),
            "Which countries are importing wheat from Ukraine?",
        ),
        ("import", "export"),
        ("wheat", "heat"),
        "Which countries do not import wheat from Ukraine?",
        relation="Which countries import wheat into Ukraine?",
    ),
    Seed(
        "When does the Lisbon warehouse open?",
        ("At what time does the Lisbon warehouse open?", "When is the Lisbon warehouse opening?"),
        ("open", "close"),
        ("open", "oven"),
        "When does the Lisbon warehouse not open?",
    ),
    Seed(
        "Is the Tidewater API secure?",
        ("Is Tidewater's API secure?", "Is the API of Tidewater secure?"),
        ("secure", "vulnerable"),
        ("secure", "secret"),
        "Is the Tidewater API not secure?",
        extra=(("Is the Tidewater API insecure?", "antonym"),),
    ),
    Seed(
        "Which loans were approved for small farms?",
        ("Which loans for small farms were approved?", "Which loans got approved for small farms?"),
        ("small", "large"),
        ("loans", "loons"),
        "Which loans were not approved for small farms?",
    ),
    Seed(
        "What price did the Aurora painting fetch at auction?",
        (
            "At auction, what price did the Aurora painting fetch?",
            "What price was fetched by the Aurora painting at auction?",
        ),
        ("price", "discount"),
        ("price", "prize"),
        "What price did the Aurora painting not fetch at auction?",
    ),
    Seed(
        "Who leads the Payments Core team?",
        ("Who is the Payments Core team led by?", "Who is leading the Payments Core team?"),
        ("leads", "follows"),
        ("leads", "loads"),
        "Who does not lead the Payments Core team?",
        more="Who leads the Payments Core team and how long have they led it?",
    ),
    Seed(
        "How many patients enrolled in the Halvard trial?",
        ("How many patients were enrolled in the Halvard trial?", "In the Halvard trial, how many patients enrolled?"),
        ("enrolled", "withdrew"),
        ("patients", "patents"),
        "How many patients did not enroll in the Halvard trial?",
    ),
    Seed(
        "What effect does caffeine have on sleep?",
        ("What is the effect of caffeine on sleep?", "What effect has caffeine on sleep?"),
        ("effect", "cause"),
        ("effect", "affect"),
        "What effect does caffeine not have on sleep?",
        role="What effect does sleep have on caffeine?",
    ),
    Seed(
        "Which suppliers accept late payments?",
        ("Which suppliers will accept late payments?", "Which supplier accepts late payments?"),
        ("late", "early"),
        ("accept", "except"),
        "Which suppliers do not accept late payments?",
    ),
    Seed(
        "Did Halyard Labs acquire Tidewater Systems?",
        ("Was Tidewater Systems acquired by Halyard Labs?", "Has Halyard Labs acquired Tidewater Systems?"),
        ("acquire", "divest"),
        ("acquire", "require"),
        "Did Halyard Labs not acquire Tidewater Systems?",
        role="Did Tidewater Systems acquire Halyard Labs?",
    ),
    Seed(
        "Who reports to Dana Okafor?",
        ("Who are the people reporting to Dana Okafor?", "Which people report to Dana Okafor?"),
        ("reports", "objects"),
        ("reports", "resorts"),
        "Who does not report to Dana Okafor?",
        role="Who does Dana Okafor report to?",
    ),
    Seed(
        "Which team owns the Ledgerline service?",
        ("The Ledgerline service is owned by which team?", "Which team is the owner of the Ledgerline service?"),
        ("owns", "rents"),
        ("owns", "owes"),
        "Which team does not own the Ledgerline service?",
        role="Which team does the Ledgerline service own?",
    ),
    Seed(
        "What happened after the Keel outage?",
        ("What happened following the Keel outage?", "After the Keel outage, what happened?"),
        ("outage", "upgrade"),
        ("outage", "outrage"),
        "What did not happen after the Keel outage?",
        relation="What happened before the Keel outage?",
    ),
    Seed(
        "Is the Oslo data center running at full capacity?",
        ("Is the Oslo data center at full capacity?", "Is the data center in Oslo running at full capacity?"),
        ("full", "half"),
        ("running", "ruining"),
        "Is the Oslo data center not running at full capacity?",
    ),
    Seed(
        "Which medications interact with warfarin?",
        ("Which medications have an interaction with warfarin?", "Which medication interacts with warfarin?"),
        ("interact", "coexist"),
        ("medications", "meditations"),
        "Which medications do not interact with warfarin?",
    ),
    Seed(
        "What is the boiling point of ethanol?",
        ("What's the boiling point of ethanol?", "At what point does ethanol boil?"),
        ("boiling", "freezing"),
        ("boiling", "bowling"),
        "What is not the boiling point of ethanol?",
    ),
    Seed(
        "Which employees work remotely in Portugal?",
        ("Which employees are working remotely in Portugal?", "In Portugal, which employees work remotely?"),
        ("remotely", "onsite"),
        ("work", "word"),
        "Which employees do not work remotely in Portugal?",
    ),
    Seed(
        "When did Priya Raman join the platform team?",
        (
            "When was it that Priya Raman joined the platform team?",
            "In what year did Priya Raman join the platform team?",
        ),
        ("join", "leave"),
        ("join", "coin"),
        "When did Priya Raman not join the platform team?",
    ),
    Seed(
        "Why did the Meridian launch fail?",
        ("What was the reason the Meridian launch failed?", "Why was the Meridian launch a failure?"),
        ("fail", "succeed"),
        ("launch", "lunch"),
        "Why did the Meridian launch not fail?",
    ),
    Seed(
        "Which accounts were frozen by the bank?",
        ("Which accounts did the bank freeze?", "Which accounts has the bank frozen?"),
        ("frozen", "unlocked"),
        ("bank", "tank"),
        "Which accounts were not frozen by the bank?",
        role="Which accounts froze the bank?",
    ),
    Seed(
        "What is the minimum wage in Ontario in 2024?",
        ("In 2024, what is the minimum wage in Ontario?", "What is Ontario's minimum wage in 2024?"),
        ("minimum", "maximum"),
        ("wage", "wave"),
        "What is not the minimum wage in Ontario in 2024?",
    ),
    Seed(
        "Which trains depart from Leeds before noon?",
        ("Before noon, which trains depart from Leeds?", "Which trains leave from Leeds before noon?"),
        ("depart", "arrive"),
        ("trains", "brains"),
        "Which trains do not depart from Leeds before noon?",
        relation="Which trains depart from Leeds after noon?",
    ),
    Seed(
        "Is the Corvid library thread-safe?",
        ("Is Corvid's library thread-safe?", "Is the library Corvid thread-safe?"),
        ("safe", "unsafe"),
        ("thread", "threat"),
        "Is the Corvid library not thread-safe?",
    ),
    Seed(
        "Which clients cancelled their contracts in May?",
        ("In May, which clients cancelled their contracts?", "Which clients had cancelled their contracts in May?"),
        ("cancelled", "renewed"),
        ("contracts", "contacts"),
        "Which clients did not cancel their contracts in May?",
    ),
    Seed(
        "What was the profit of the Nordlys fund in 2021?",
        ("In 2021, what was the profit of the Nordlys fund?", "What was the Nordlys fund's profit in 2021?"),
        ("profit", "loss"),
        ("profit", "prophet"),
        "What was not the profit of the Nordlys fund in 2021?",
    ),
    Seed(
        "Who designed the Saltmarsh bridge?",
        ("Who was the designer of the Saltmarsh bridge?", "The Saltmarsh bridge was designed by whom?"),
        ("designed", "demolished"),
        ("designed", "resigned"),
        "Who did not design the Saltmarsh bridge?",
        more="Who designed the Saltmarsh bridge and who paid for it?",
    ),
    Seed(
        "How many users signed up for Beacon last week?",
        ("How many users signed up to Beacon last week?", "Last week, how many users signed up for Beacon?"),
        ("signed", "unsubscribed"),
        ("users", "uses"),
        "How many users did not sign up for Beacon last week?",
    ),
    Seed(
        "Which rivers flow into the Caspian Sea?",
        (
            "Which rivers flow into the Caspian?".replace("Caspian?", "Caspian Sea?"),
            "Which river flows into the Caspian Sea?",
        ),
        ("flow", "dry"),
        ("rivers", "rovers"),
        "Which rivers do not flow into the Caspian Sea?",
        relation="Which rivers flow out of the Caspian Sea?",
    ),
    Seed(
        "Is the Redwood index stable under heavy load?",
        ("Under heavy load, is the Redwood index stable?", "Is the Redwood index stable with heavy load?"),
        ("stable", "unstable"),
        ("load", "lead"),
        "Is the Redwood index not stable under heavy load?",
    ),
    Seed(
        "Which teachers were praised by the inspectors?",
        ("Which teachers did the inspectors praise?", "Which teachers got praised by the inspectors?"),
        ("praised", "criticised"),
        ("praised", "raised"),
        "Which teachers were not praised by the inspectors?",
        role="Which teachers praised the inspectors?",
    ),
    Seed(
        "What is the latest version of the Quarry client?",
        ("What's the latest Quarry client version?", "Which version of the Quarry client is the latest?"),
        ("latest", "earliest"),
        ("version", "person"),
        "What is not the latest version of the Quarry client?",
    ),
    Seed(
        "Where is the Amberline depot located?",
        (
            "Where can the Amberline depot be found?".replace(
                "can the Amberline depot be found", "is the Amberline depot"
            ),
            "Where's the Amberline depot located?",
        ),
        ("depot", "headquarters"),
        ("depot", "deport"),
        "Where is the Amberline depot not located?",
    ),
    Seed(
        "Which plants tolerate dry soil?",
        ("Which plant tolerates dry soil?", "Which plants are tolerant of dry soil?"),
        ("dry", "wet"),
        ("soil", "soul"),
        "Which plants do not tolerate dry soil?",
    ),
    Seed(
        "When was the Gannet vessel inspected?",
        ("When did the Gannet vessel get inspected?", "On what date was the Gannet vessel inspected?"),
        ("inspected", "abandoned"),
        ("inspected", "infected"),
        "When was the Gannet vessel not inspected?",
    ),
    Seed(
        "Did the court allow the appeal in 2019?",
        ("In 2019, did the court allow the appeal?", "Was the appeal allowed by the court in 2019?"),
        ("allow", "dismiss"),
        ("appeal", "appear"),
        "Did the court not allow the appeal in 2019?",
    ),
    Seed(
        "Which batteries degrade fastest in cold weather?",
        ("In cold weather, which batteries degrade fastest?", "Which battery degrades fastest in cold weather?"),
        ("cold", "hot"),
        ("degrade", "upgrade"),
        "Which batteries do not degrade fastest in cold weather?",
        extra=(("Which batteries degrade slowest in cold weather?", "antonym"),),
    ),
    Seed(
        "Who borrowed money from the Corran bank?",
        ("Who has borrowed money from the Corran bank?", "Who was it that borrowed money from the Corran bank?"),
        ("borrowed", "deposited"),
        ("money", "monkey"),
        "Who never borrowed money from the Corran bank?",
        relation="Who borrowed money for the Corran bank?",
    ),
    Seed(
        "What are the side effects of ibuprofen?",
        ("What side effects does ibuprofen have?", "Which side effects does ibuprofen have?"),
        ("side", "main"),
        ("effects", "affects"),
        "What are not the side effects of ibuprofen?",
    ),
    Seed(
        "Which interns were mentored by senior engineers?",
        (
            "Which interns did senior engineers mentor?",
            "Which interns had senior engineers as mentors?".replace(
                "had senior engineers as mentors", "were mentored by senior engineers"
            ),
        ),
        ("senior", "junior"),
        ("mentored", "monitored"),
        "Which interns were not mentored by senior engineers?",
        role="Which interns mentored senior engineers?",
    ),
    Seed(
        "How long does the Halcyon battery last?",
        ("How long will the Halcyon battery last?", "How long does Halcyon's battery last?"),
        ("battery", "charger"),
        ("last", "lost"),
        "How long does the Halcyon battery not last?",
    ),
    Seed(
        "Which regions reported rising unemployment?",
        ("Which regions have reported rising unemployment?", "Which region reported rising unemployment?"),
        ("rising", "falling"),
        ("regions", "religions"),
        "Which regions did not report rising unemployment?",
    ),
    Seed(
        "Is the Mistral ferry running on Sunday?",
        (
            "Is the Mistral ferry operating on Sunday?".replace("operating", "running"),
            "On Sunday, is the Mistral ferry running?",
        ),
        ("running", "cancelled"),
        ("ferry", "fairy"),
        "Is the Mistral ferry not running on Sunday?",
    ),
    Seed(
        "Which tenants pay rent in advance?",
        ("Which tenants are paying rent in advance?", "Which tenant pays rent in advance?"),
        ("advance", "arrears"),
        ("rent", "rant"),
        "Which tenants do not pay rent in advance?",
    ),
    Seed(
        "Who sold shares in Orrin Capital in 2020?",
        ("In 2020, who sold shares in Orrin Capital?", "Who was selling shares in Orrin Capital in 2020?"),
        ("sold", "bought"),
        ("shares", "shades"),
        "Who did not sell shares in Orrin Capital in 2020?",
    ),
    Seed(
        "What is the upstream dependency of the Keel broker?",
        ("What is the Keel broker's upstream dependency?", "Which upstream dependency does the Keel broker have?"),
        ("upstream", "downstream"),
        ("dependency", "dependence"),
        "What is not the upstream dependency of the Keel broker?",
    ),
    Seed(
        "Which students passed the final exam?",
        ("Which students have passed the final exam?", "Which student passed the final exam?"),
        ("passed", "failed"),
        ("final", "finial"),
        "Which students did not pass the final exam?",
        extra=(("Which students passed the first exam?", "number"),),
    ),
    Seed(
        "Are the Vesper logs encrypted at rest?",
        ("Are Vesper's logs encrypted at rest?", "At rest, are the Vesper logs encrypted?"),
        ("encrypted", "plaintext"),
        ("logs", "legs"),
        "Are the Vesper logs not encrypted at rest?",
        extra=(("Are the Vesper logs decrypted at rest?", "antonym"),),
    ),
    Seed(
        "Which towns were flooded in January 2021?",
        ("In January 2021, which towns were flooded?", "Which towns got flooded in January 2021?"),
        ("flooded", "parched"),
        ("towns", "gowns"),
        "Which towns were not flooded in January 2021?",
    ),
    Seed(
        "How many cyclists use the Elm Street lane each day?",
        (
            "How many cyclists use the lane on Elm Street each day?",
            "Each day, how many cyclists use the Elm Street lane?",
        ),
        ("cyclists", "drivers"),
        ("lane", "lake"),
        "How many cyclists do not use the Elm Street lane each day?",
    ),
]

_PEOPLE = ["Lena Ortiz", "Marcus Webb", "Ines Halvorsen", "Tomas Reyes"]
_PLACES = ["Ghent", "Tallinn", "Porto", "Kraków", "Quebec", "Nairobi"]
_MONTHS = "January February March April May June July August September October November December".split()
_WORDS = re.compile(r"\b\w+(?:[-']\w+)*\b")


def pairs() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for n, seed in enumerate(SEEDS):
        tag = f"s{n:02d}"

        def add(b: str, kind: str, label: str, seed: Seed = seed, tag: str = tag) -> None:
            if b != seed.q:
                out.append({"seed": tag, "a": seed.q, "b": b, "kind": kind, "label": label})

        for p in seed.para:
            add(p, "paraphrase", "hit")
        add(seed.q.rstrip("?").casefold(), "paraphrase", "hit")  # case and punctuation
        if seed.ant:
            add(_swap(seed.q, *seed.ant), "antonym", "miss")
        if seed.look:
            add(_swap(seed.q, *seed.look), "lookalike", "miss")
        if seed.neg:
            add(seed.neg, "negation", "miss")
        if seed.role:
            add(seed.role, "role", "miss")
        if seed.relation:
            add(seed.relation, "relation", "miss")
        if seed.more:
            add(seed.more, "asks_more", "miss")
        for question, kind in seed.extra:
            add(question, kind, "miss")
        for swapped, kind in _rule_swaps(seed.q, n):
            add(swapped, kind, "miss")
        # The near miss also asked in the paraphrase's words: the guard must refuse it there too.
        if seed.para and seed.ant and re.search(rf"\b{re.escape(seed.ant[0])}\b", seed.para[0]):
            add(_swap(seed.para[0], *seed.ant), "antonym_of_paraphrase", "miss")
    return out


def _swap(text: str, old: str, new: str) -> str:
    swapped = re.sub(rf"\b{re.escape(old)}\b", new, text, count=1)
    assert swapped != text, (text, old)
    return swapped


def _rule_swaps(q: str, n: int) -> list[tuple[str, str]]:
    found = []
    if year := re.search(r"\b(19|20)\d\d\b", q):
        found.append((q.replace(year.group(), str(int(year.group()) + 1 + n % 3)), "date"))
    for month in _MONTHS:
        if re.search(rf"\b{month}\b", q):
            found.append((q.replace(month, _MONTHS[(_MONTHS.index(month) + 1 + n % 5) % 12]), "date"))
    if number := re.search(r"\b(third|Q3|noon|each day|last week)\b", q):
        other = {"third": "second", "Q3": "Q4", "noon": "midnight", "each day": "each week", "last week": "last month"}
        found.append((q.replace(number.group(), other[number.group()]), "number"))
    names = [w for i, w in enumerate(_WORDS.findall(q)) if i > 0 and w[:1].isupper()]
    if names:
        name = names[0]
        pool = _PEOPLE if " ".join(names[:2]) in q and len(names) > 1 and name in {"Dana", "Priya"} else _PLACES
        other = pool[n % len(pool)]
        if name in {"Dana", "Priya"}:
            full = " ".join(names[:2])
            found.append((q.replace(full, other), "entity"))
        else:
            found.append((q.replace(name, other.split()[0] if " " in other else other, 1), "entity"))
    return found


def main() -> int:
    rows = pairs()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print(f"{len(rows)} pairs from {len(SEEDS)} seeds → {OUT}: {kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
