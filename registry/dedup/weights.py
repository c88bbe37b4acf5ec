"""Evidence weights, in centibits (log2(m/u) × 100), per comparison level of registry.dedup.levels.

Written by `python -m bench.dedup_train` from labelled training pairs; edit that, not this file.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    GIVEN: tuple[int, ...]  # NAME_LEVELS
    SURNAME: tuple[int, ...]  # NAME_LEVELS
    CROSS: tuple[int, ...]  # NAME_LEVELS, given name against surname (swapped order)
    ORGANIZATION: tuple[int, ...]  # ORG_LEVELS
    DOMAIN: tuple[int, ...]  # DOMAIN_LEVELS
    EMAIL: int  # the same email address
    NAME_MIN: int  # name weight a pair needs before anything else counts
    TF_U: tuple[float, float, float]  # average u of an exact given name, surname, organization (for Frequencies)
    # Posterior log2 odds (the prior's, registry.dedup.prior, plus the total weight) from which a pair is proposed,
    # and the same for a pair with nothing but names to go on (levels.names_only).
    MATCH_ODDS: int
    MATCH_ODDS_NAMES: int
    DUPLICATES_PER_PERSON: float  # the training sets' duplicates per person: the prior before any estimate
    POPULATION_FLOOR: int = 1000  # below this many people, the prior of this many (thresholds never fall there)


TRAINED = Weights(
    GIVEN=(720, 556, 656, 710, 290, 189, -96, -301, 0),
    SURNAME=(767, 767, 441, 767, 503, 365, -84, -308, 0),
    CROSS=(776, 776, 776, 490, 776, 776, 776, -10, 0),
    ORGANIZATION=(644, 644, 644, 222, -477, -1000, 0),
    DOMAIN=(519, -155, -1000, 0),
    TF_U=(0.004407, 0.003366, 0.008921),
    EMAIL=2000,
    NAME_MIN=300,
    MATCH_ODDS=-50,
    MATCH_ODDS_NAMES=25,
    DUPLICATES_PER_PERSON=0.2627,
)
