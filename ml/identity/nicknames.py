"""Common English given-name nicknames, mapped to one canonical form.

Used to compare first names: ``Bob`` and ``Robert`` share the canonical ``robert``.
A short hand-made list of the forms CRM data sees most (not the generator's list: the
model must not be tuned to the synthetic data). A nickname shared by two names
(``Pat``: Patricia or Patrick) maps to the more frequent one; the comparison still
ranks an exact first-name match above a canonical one.
"""

from __future__ import annotations

CANONICAL_NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie", "gail"),
    "alexander": ("alex", "alec", "sandy", "xander"),
    "alexandra": ("alexa", "lexi", "sasha"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "barbara": ("barb", "babs", "barbie"),
    "benjamin": ("ben", "benny", "benji"),
    "charles": ("charlie", "chuck", "chas"),
    "charlotte": ("lottie", "charlie"),
    "christina": ("tina", "chrissy"),
    "christine": ("chrissie",),
    "christopher": ("chris", "kit", "topher"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey"),
    "deborah": ("deb", "debbie", "debby"),
    "donald": ("don", "donnie"),
    "dorothy": ("dot", "dottie", "dolly"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "bet"),
    "emily": ("em", "emmy"),
    "frances": ("fran", "frankie"),
    "francis": ("frank",),
    "frederick": ("fred", "freddie"),
    "gregory": ("greg",),
    "harold": ("hal",),
    "henry": ("hank", "harry"),
    "isabella": ("bella", "izzy"),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny", "jenn"),
    "jessica": ("jess", "jessie"),
    "john": ("jack", "johnny", "jon"),
    "jonathan": ("jon", "jonny"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("catherine", "kathryn", "kate", "katie", "kathy", "kat", "kath", "kitty"),
    "kathleen": ("kathy", "kath"),
    "kenneth": ("ken", "kenny"),
    "kimberly": ("kim",),
    "lawrence": ("larry", "laurie"),
    "leonard": ("leo", "len", "lenny"),
    "margaret": ("maggie", "meg", "peggy", "marge", "margie", "greta"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mick", "mikey", "mickey"),
    "nicholas": ("nick", "nicky"),
    "nicole": ("nikki", "nicky"),
    "pamela": ("pam",),
    "patricia": ("pat", "patty", "trish", "tricia"),
    "patrick": ("paddy", "pat"),
    "peter": ("pete",),
    "philip": ("phil",),
    "rebecca": ("becky", "becca"),
    "richard": ("rick", "dick", "rich", "ricky", "richie"),
    "robert": ("bob", "rob", "bobby", "robbie", "bert"),
    "ronald": ("ron", "ronnie"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "sandra": ("sandy",),
    "stephanie": ("steph",),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "susan": ("sue", "susie", "suzy"),
    "theodore": ("theo", "ted", "teddy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "vicki", "tori"),
    "william": ("will", "bill", "billy", "willie", "liam"),
    "zachary": ("zach", "zack"),
}


def nickname_rows() -> list[tuple[str, str]]:
    """(name, canonical) pairs: a nickname of several names has a row for each."""
    rows = set()
    for canonical, nicknames in CANONICAL_NICKNAMES.items():
        rows.add((canonical, canonical))
        rows.update((nickname, canonical) for nickname in nicknames)
    return sorted(rows)
