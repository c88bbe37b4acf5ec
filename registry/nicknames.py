"""Common English given-name variants, each mapped to one canonical form (Katie ~ Katherine ~ Kate)."""

GROUPS = [
    "katherine katharine catherine kathryn kate katie kathy cathy kat kathleen",
    "robert rob bob bobby robbie bert",
    "william will bill billy willy liam",
    "elizabeth liz lizzie beth betty eliza libby",
    "margaret maggie meg peggy marge",
    "richard rick rich dick ricky",
    "james jim jimmy jamie",
    "john jack johnny jon",
    "michael mike mikey mick",
    "christopher chris kit topher",
    "christine christina chris tina",
    "jennifer jen jenny",
    "joseph joe joey",
    "thomas tom tommy",
    "daniel dan danny",
    "matthew matt",
    "anthony tony",
    "andrew andy drew",
    "alexander alex sandy xander",
    "alexandra alex sandra lexi",
    "benjamin ben benny",
    "samuel sam sammy",
    "samantha sam sammie",
    "nicholas nick nicky",
    "jonathan jon jonny",
    "stephen steven steve stevie",
    "edward ed eddie ted ned",
    "charles charlie chuck chas",
    "david dave davey",
    "patricia pat patty trish",
    "patrick pat paddy",
    "rebecca becky becca",
    "susan sue susie suzanne",
    "deborah debbie deb debra",
    "victoria vicky tori",
    "gregory greg",
    "timothy tim timmy",
    "jeffrey jeff geoffrey",
    "kenneth ken kenny",
    "ronald ron ronnie",
    "donald don donnie",
    "lawrence larry laurence",
    "theodore ted teddy theo",
    "frederick fred freddie",
    "zachary zach zack",
    "joshua josh",
    "nathaniel nathan nate",
    "abigail abby gail",
    "amanda mandy",
    "jacqueline jackie",
    "pamela pam",
    "cynthia cindy",
    "dorothy dot dottie",
    "eleanor ellie nora",
    "gabriel gabe",
    "isabella isabel bella izzy",
    "leonard leo len lenny",
    "philip phillip phil",
    "raymond ray",
    "walter walt",
    "harold harry hal",
    "henry hank harry",
]

CANONICAL: dict[str, str] = {}
GROUPS_OF: dict[str, set[int]] = {}
for number, group in enumerate(GROUPS):
    names = group.split()
    for name in names:
        CANONICAL.setdefault(name, names[0])
        GROUPS_OF.setdefault(name, set()).add(number)


def canonical_given_name(name: str) -> str:
    return CANONICAL.get(name, name)


def nickname_groups(name: str) -> set[int]:
    """The variant groups a given name belongs to ("ted" is in both Edward's and Theodore's)."""
    return GROUPS_OF.get(name, set())
