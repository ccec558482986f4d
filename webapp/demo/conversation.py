"""The demo article's conversation: readers who answered its poll, what they wrote and
how the others received it, spread over the days since the article came out.

It is there so that every page that reads a thread or a poll has something true to
show on a fresh install: the results over time, the tone by answer, the common-ground
sort and "what each side is saying", the readers who changed their minds, and the
moderators' queue. Every line was written for the demo; no reader is real.

What is written by hand: the readers (their names and answers, and the few who moved),
the comments (who wrote each, when, in reply to what, and how the thread received it,
its ``reception``). What is drawn, from a fixed seed so that tests and screenshots see
the same thread on every install: the anonymous votes, the times of the readers'
votes, and which readers reacted to which comment, from each comment's reception.

The rows go in through the project's own paths where those are quick enough: each
comment is prepared by the posting service (rendered, scored for tone and toxicity,
assessed by the moderation rules) and stored by it; votes and reactions, several
hundred of each, are written as rows in a few statements, and the database triggers
keep the tallies, the day-by-day rollups, the tone counters, the vote history and the
common-ground figures from them, as they would for votes and reactions made one at a
time. A comment's ``score`` is the app's to keep (``comments.react``), so it is set
here from the reactions written, once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update

from webapp.caching import THREADS
from webapp.extensions import db
from webapp.models import (
    Article,
    Comment,
    CommentReaction,
    CommentStatus,
    Poll,
    Role,
    User,
    Vote,
)
from webapp.services import comments, names

# The poll's answers, by position (``loader.DEMO_OPTIONS``).
HOLDS = 0  # "Yes, the ceasefire will hold"
FOR_NOW = 1  # "It will hold for now, but not for long"
BREAKS = 2  # "No, a new conflict is one spark away"
TOO_EARLY = 3  # "Too early to tell"

#: How the answers line up in an argument: the hopeful, the doubtful (whether soon or
#: later) and those waiting to see. A divisive comment splits the first two.
CAMPS = {HOLDS: "hope", FOR_NOW: "doubt", BREAKS: "doubt", TOO_EARLY: "wait"}

#: Everything random in the demo is drawn from this, so every install sees one thread.
SEED = 44
#: The article came out this long before the demo is loaded; the conversation fills it.
AGE = timedelta(days=6)
#: The last hour (after publication) anything in the demo happens.
LAST_HOUR = 141.0
#: Demo readers cannot sign in: their password is no hash any password matches
#: (argon2 refuses it as a hash, so sign-in fails as for a wrong password).
UNUSABLE_PASSWORD = "!demo-reader-no-password"  # nosec B105
#: Their addresses are on a domain reserved for examples (RFC 2606).
EMAIL_DOMAIN = "readers.pulse.example"


@dataclass(frozen=True)
class DemoReader:
    name: str
    answer: int
    # A reader who changed their mind: the answer they gave first, when (hours after
    # publication), and when they moved to ``answer``.
    first_answer: int | None = None
    first_hour: float = 0.0
    moved_hour: float = 0.0


READERS: tuple[DemoReader, ...] = (
    # Expecting the ceasefire to hold.
    DemoReader("Rahul S.", HOLDS),
    DemoReader("Priya Raghavan", HOLDS),
    DemoReader("Daniel Okafor", HOLDS),
    DemoReader("Claire O'Neill", HOLDS, first_answer=TOO_EARLY, first_hour=2, moved_hour=26),
    DemoReader("Meera Iyer", HOLDS),
    DemoReader("Zoë Martínez", HOLDS),
    DemoReader("Kenji Watanabe", HOLDS),
    DemoReader("Hamza Qureshi", HOLDS),
    DemoReader("Anaïs Dubois", HOLDS),
    DemoReader("Tom Becker", HOLDS),
    DemoReader("Nadia Rahman", HOLDS),
    # Holding for now, not for long.
    DemoReader("Amina K.", FOR_NOW),
    DemoReader("Imran Siddiqui", FOR_NOW),
    DemoReader("Sarah Lindqvist", FOR_NOW, first_answer=TOO_EARLY, first_hour=6, moved_hour=52),
    DemoReader("Vikram Chauhan", FOR_NOW),
    DemoReader("Søren Lykke", FOR_NOW),
    DemoReader("Fatima Zahra", FOR_NOW),
    DemoReader("Jonas Weber", FOR_NOW),
    DemoReader("Kavita Rao", FOR_NOW, first_answer=HOLDS, first_hour=0.5, moved_hour=10),
    DemoReader("Bilal Ahmed", FOR_NOW),
    DemoReader("Emily Tran", FOR_NOW),
    DemoReader("Ayşe Demir", FOR_NOW),
    DemoReader("Rohan Kapoor", FOR_NOW),
    DemoReader("Greg P.", FOR_NOW),
    DemoReader("Nguyễn Thu Hà", FOR_NOW),
    # One spark away from a new conflict.
    DemoReader("Leena M.", BREAKS),
    DemoReader("Tariq Jamil", BREAKS, first_answer=FOR_NOW, first_hour=3, moved_hour=30),
    DemoReader("Arjun Mehta", BREAKS),
    DemoReader("Łukasz Nowak", BREAKS),
    DemoReader("Sana Mir", BREAKS),
    DemoReader("Chris Holloway", BREAKS),
    DemoReader("Usman Ghani", BREAKS),
    DemoReader("Marta Kowalczyk", BREAKS),
    DemoReader("José Ignacio Ruiz", BREAKS),
    DemoReader("Deepak N.", BREAKS),
    DemoReader("Helen Fairbanks", BREAKS),
    # Too early to tell.
    DemoReader("Farhan Q.", TOO_EARLY),
    DemoReader("Ayesha Malik", TOO_EARLY, first_answer=BREAKS, first_hour=1, moved_hour=78),
    DemoReader("Nandini Bose", TOO_EARLY),
    DemoReader("Ömer Faruk Yılmaz", TOO_EARLY),
    DemoReader("Zainab Hussain", TOO_EARLY),
    DemoReader("Sébastien Morel", TOO_EARLY, first_answer=HOLDS, first_hour=0.8, moved_hour=5),
    DemoReader("Lakshmi Venkatesh", TOO_EARLY),
    DemoReader("Paul Adeyemi", TOO_EARLY),
    DemoReader("Ingrid Halvorsen", TOO_EARLY),
    DemoReader("Yusuf Karim", TOO_EARLY),
    DemoReader("Maya Goldberg", TOO_EARLY),
    DemoReader("Aditi Sharma", TOO_EARLY),
)

#: Visitors who voted without an account, and how many of them later moved their vote.
ANONYMOUS_VOTES = 330
ANONYMOUS_MOVES = 12
#: The answers' shares among the anonymous votes on the first day and on the last: the
#: early relief gives way to doubt as the violations are reported.
FIRST_DAY_SHARES = (0.36, 0.26, 0.16, 0.22)
LAST_DAY_SHARES = (0.18, 0.34, 0.28, 0.20)


@dataclass(frozen=True)
class DemoComment:
    key: str
    author: str
    hour: float  # after publication
    body: str
    # How the thread received it (``RECEPTIONS``).
    reception: str = "quiet"
    reply_to: str | None = None
    # Held for the moderators (by the moderation rules: this one has too many links).
    held: bool = False


#: For each reception: given the author's answer and a reader's, the chance that the
#: reader reacts at all, and that a reaction is an up vote.
#:
#: - ``bridge``: a fair or practical point readers of every answer approve of;
#: - ``own``: approved by the author's own answer, shrugged at by the others;
#: - ``rally``: cheered loudly by the author's camp, ignored by the rest (a high raw
#:   score that is no common ground);
#: - ``divisive``: the author's camp up, the opposite camp down;
#: - ``quiet``: a reply few react to.
RECEPTIONS = ("bridge", "own", "rally", "divisive", "quiet")


def _chances(reception: str, author: int, reader: int) -> tuple[float, float]:
    same_answer = author == reader
    same_camp = CAMPS[author] == CAMPS[reader]
    opposed = {CAMPS[author], CAMPS[reader]} == {"hope", "doubt"}
    if reception == "bridge":
        return 0.55, 0.93
    if reception == "own":
        if same_answer:
            return 0.55, 0.93
        return (0.2, 0.55) if same_camp else (0.15, 0.35)
    if reception == "rally":
        if same_answer:
            return 0.85, 0.97
        return (0.25, 0.45) if same_camp else (0.25, 0.15)
    if reception == "divisive":
        if same_camp:
            return 0.6, 0.93
        return (0.6, 0.1) if opposed else (0.3, 0.5)
    return 0.1, 0.75


_HELD_LINKS = (
    "For anyone who wants to read further, three things I found useful: the text of the "
    "earlier ceasefire understandings (https://example.org/ceasefire-statements), a "
    "day-by-day timeline of this month's crisis (https://example.org/crisis-timeline) "
    "and a short explainer on the Line of Control (https://example.org/loc-explainer)."
)

COMMENTS: tuple[DemoComment, ...] = (
    DemoComment(
        "rahul",
        "Rahul S.",
        1.0,
        "I am hopeful. Having the security advisers talk to each other directly is a "
        "real improvement on relying on outside capitals.",
        "own",
    ),
    DemoComment(
        "amina",
        "Amina K.",
        1.5,
        "The truce stopped the shelling, and that matters. But nothing was settled about "
        "Kashmir itself, so I expect the calm to be short.",
        "own",
    ),
    DemoComment(
        "leena",
        "Leena M.",
        2.0,
        "Every crisis ends with a ceasefire and starts again a few years later. Without a "
        "political process this is just a pause.",
        "own",
    ),
    DemoComment(
        "farhan",
        "Farhan Q.",
        2.5,
        "Good point, although those channels have been opened and closed before. Let's "
        "see if they are still talking a month from now.",
        "bridge",
        reply_to="rahul",
    ),
    DemoComment(
        "daniel",
        "Daniel Okafor",
        3.0,
        "Nothing about Kashmir gets settled in a week. Stopping the shelling is the step "
        "that makes any talks possible at all.",
        reply_to="amina",
    ),
    DemoComment(
        "helen",
        "Helen Fairbanks",
        3.2,
        "A ceasefire announced on social media by a third country, before either "
        "government had said a word, is not an agreement between the two parties. I "
        "would be surprised if it outlasts the summer.",
        "divisive",
    ),
    DemoComment(
        "arjun",
        "Arjun Mehta",
        4.0,
        "Talking is cheap. Hotlines have been set up before and the next crisis came "
        "anyway. I will believe in the channel when it survives a bad week.",
        "own",
        reply_to="rahul",
    ),
    DemoComment(
        "hamza-reply",
        "Hamza Qureshi",
        4.3,
        "Who announced it matters less than whether the guns went quiet, and for the most "
        "part they did. I would take a clumsy announcement over a war any day.",
        "divisive",
        reply_to="helen",
    ),
    DemoComment(
        "ingrid",
        "Ingrid Halvorsen",
        5.0,
        "One thing all of us could agree to watch: the number of reported violations per "
        "week, from sources on both sides. If it falls steadily, the truce is taking; if "
        "it doesn't, no statement will save it. I'd like the paper to track that in a "
        "follow-up.",
        "bridge",
    ),
    DemoComment(
        "meera",
        "Meera Iyer",
        5.2,
        "Pauses have value. Earlier ceasefires along the Line of Control held for years at "
        "a time, with breaks, and families near the border rebuilt in those years.",
        "own",
        reply_to="leena",
    ),
    DemoComment(
        "priya",
        "Priya Raghavan",
        6.0,
        "It did survive a bad week: this one. The shelling stopped within a day of the "
        "announcement, which has not always happened.",
        reply_to="arjun",
    ),
    DemoComment(
        "vikram",
        "Vikram Chauhan",
        6.3,
        "Seconded. Put both armies' figures side by side, so nobody can say the count was "
        "picked to suit one story.",
        "bridge",
        reply_to="ingrid",
    ),
    DemoComment(
        "usman",
        "Usman Ghani",
        6.6,
        "Those years were real, but so was the way they frayed. Without a political track "
        "the violations creep back, a few a month, until one of them is not small.",
        "own",
        reply_to="meera",
    ),
    DemoComment(
        "arjun-again",
        "Arjun Mehta",
        7.0,
        "Stopped, then started again that same night. Give it until the end of the month "
        "before calling it a survivor.",
        reply_to="priya",
    ),
    DemoComment(
        "sebastien",
        "Sébastien Morel",
        8.0,
        "The order of the announcements matters, though: each government now has to "
        "explain at home why it agreed to something its people first heard about from "
        "Washington. That is a weak point worth watching, whichever way you voted.",
        "bridge",
        reply_to="helen",
    ),
    DemoComment(
        "nandini",
        "Nandini Bose",
        9.0,
        "You are both right, which is the problem. A ceasefire buys time; the question is "
        "whether anyone uses it. I would look for a date for talks, not for more "
        "statements.",
        "bridge",
        reply_to="amina",
    ),
    DemoComment(
        "kenji",
        "Kenji Watanabe",
        11.0,
        "A neutral count would also show the incidents that don't escalate, which are the "
        "real sign that the hotline works.",
        reply_to="ingrid",
    ),
    DemoComment(
        "kavita",
        "Kavita Rao",
        12.0,
        "I answered 'yes' on the first evening and changed my answer this morning. The "
        "violations within hours were not what moved me; the silence from both capitals "
        "about any next step was.",
        "own",
    ),
    DemoComment(
        "anais",
        "Anaïs Dubois",
        13.0,
        "Silence can also mean quiet work. The decisive talks this time happened out of "
        "public view; that may still be true.",
        "own",
        reply_to="kavita",
    ),
    DemoComment(
        "bilal",
        "Bilal Ahmed",
        15.0,
        "Quiet work would be welcome. But quiet work without a date to meet turns into no "
        "work very quickly.",
        "own",
        reply_to="anais",
    ),
    DemoComment(
        "thu-ha",
        "Nguyễn Thu Hà",
        20.0,
        "Reading from far away, what strikes me is how many countries took part. Dozens "
        "of governments pressing for calm is a kind of safety net, even if nobody agrees "
        "on who tied the knot.",
        "bridge",
    ),
    DemoComment(
        "chris",
        "Chris Holloway",
        22.0,
        "All those governments did not stop the strikes from starting. They helped end "
        "them, I'll grant, but starting again is the risk.",
        "own",
        reply_to="thu-ha",
    ),
    DemoComment(
        "zoe",
        "Zoë Martínez",
        26.0,
        "You are describing the same thing from two ends: outsiders are good at ending a "
        "round, not at preventing the next. Prevention has to come from the two "
        "governments.",
        "bridge",
        reply_to="chris",
    ),
    DemoComment(
        "jose",
        "José Ignacio Ruiz",
        28.0,
        "Let's be honest about what happened: two armies lost their appetite, a third "
        "country took the credit, and nothing that caused the crisis has changed. Calling "
        "this peace is wishful thinking.",
        "divisive",
    ),
    DemoComment(
        "tom",
        "Tom Becker",
        29.0,
        "And calling it nothing is cynicism dressed up as realism. People in the border "
        "villages slept through the night. That is not wishful thinking.",
        "divisive",
        reply_to="jose",
    ),
    DemoComment(
        "ayse",
        "Ayşe Demir",
        31.0,
        "Both can be true. People slept, and the causes are all still there.",
        "own",
        reply_to="jose",
    ),
    DemoComment(
        "maya",
        "Maya Goldberg",
        33.0,
        "Maybe we can agree on this much: a night's sleep is worth defending, and it will "
        "only last if someone deals with the causes.",
        "bridge",
        reply_to="tom",
    ),
    DemoComment(
        "tariq",
        "Tariq Jamil",
        34.0,
        "I moved from 'for now' to 'no' after yesterday's reports of firing along the "
        "Line of Control. One night proves little, but past truces went exactly this way: "
        "quiet, then a spike, then blame.",
        "own",
    ),
    DemoComment(
        "claire",
        "Claire O'Neill",
        37.0,
        "I went the other way, from 'too early' to 'yes'. What convinced me is that the "
        "two militaries are talking to each other directly; truces have tended to last "
        "longer when the armies own them and not only the politicians.",
        "own",
        reply_to="tariq",
    ),
    DemoComment(
        "lakshmi",
        "Lakshmi Venkatesh",
        40.0,
        "This exchange is the most useful thing on the page: two readers moved in "
        "opposite directions and both explained why. That is what I came here for.",
        "bridge",
        reply_to="claire",
    ),
    DemoComment(
        "imran",
        "Imran Siddiqui",
        45.0,
        "For the people who live near the border the practical question is whether "
        "schools reopen and farmers can go back to their fields. Whatever the diplomats "
        "say, that is the test I'd use.",
        "bridge",
    ),
    DemoComment(
        "sana",
        "Sana Mir",
        47.0,
        "Agreed, and it is a fair test because it does not depend on whom you believe "
        "brokered the deal.",
        "bridge",
        reply_to="imran",
    ),
    DemoComment(
        "yusuf",
        "Yusuf Karim",
        50.0,
        "The harvest will tell us a lot. If people are out in the fields without "
        "incident, I'll move my answer to 'yes'.",
        reply_to="imran",
    ),
    DemoComment(
        "marta",
        "Marta Kowalczyk",
        55.0,
        "Nuclear language came back into this crisis quickly. The next round starts from "
        "a higher rung of the ladder, and that is why I answered 'no'.",
        "own",
    ),
    DemoComment(
        "paul",
        "Paul Adeyemi",
        58.0,
        "That is the most worrying part of the story for me. Convening the body that "
        "oversees the arsenal is a signal both sides will remember; whether it deters "
        "the next crisis or tempts it is the open question.",
        "bridge",
        reply_to="marta",
    ),
    DemoComment(
        "priya-again",
        "Priya Raghavan",
        63.0,
        "Or it frightened everyone enough to keep the next crisis small. Deterrence cuts "
        "both ways, and this time it cut toward stopping.",
        "own",
        reply_to="marta",
    ),
    DemoComment(
        "greg",
        "Greg P.",
        70.0,
        "Let's not pretend a phone call settles a dispute as old as the two countries "
        "themselves. The truce will last exactly as long as it suits the two armies, "
        "and not one day longer.",
        "rally",
    ),
    DemoComment(
        "nadia",
        "Nadia Rahman",
        72.0,
        "That is a lot of certainty about something nobody here can know. The point of a "
        "truce is to make it suit them for longer.",
        "own",
        reply_to="greg",
    ),
    DemoComment(
        "deepak",
        "Deepak N.",
        75.0,
        "It isn't certainty, it's history. Count how long the previous declarations "
        "lasted before the first serious breach.",
        "rally",
        reply_to="nadia",
    ),
    DemoComment(
        "ayesha",
        "Ayesha Malik",
        80.0,
        "I started at 'no' and moved to 'too early'. Reading the replies here, the honest "
        "answer is that none of us knows yet, and the next few weeks will decide it.",
        "bridge",
    ),
    DemoComment(
        "jonas",
        "Jonas Weber",
        83.0,
        "Much the same for me. The first real test will be the next militant attack, "
        "because sooner or later there will be one.",
        reply_to="ayesha",
    ),
    DemoComment(
        "zainab",
        "Zainab Hussain",
        86.0,
        "And the test is how each government answers it: with a strike, or with a call "
        "on the hotline first.",
        "bridge",
        reply_to="jonas",
    ),
    DemoComment(
        "emily",
        "Emily Tran",
        95.0,
        "A request for the newsroom: could you publish a short explainer on what exactly "
        "each side agreed to? Half the disagreement here is people reading different "
        "versions of the deal.",
        "bridge",
    ),
    DemoComment(
        "omer",
        "Ömer Faruk Yılmaz",
        97.0,
        "Yes, please, including which parts are written down and which were only announced.",
        "bridge",
        reply_to="emily",
    ),
    DemoComment(
        "soren",
        "Søren Lykke",
        105.0,
        "A good personal rapport between two leaders is a weak foundation. Leaders change "
        "and moods change. Officials who meet every month would be a stronger one.",
        "own",
    ),
    DemoComment(
        "aditi",
        "Aditi Sharma",
        108.0,
        "True, but rapport is what gets the phone answered at two in the morning while "
        "those institutions are being built.",
        reply_to="soren",
    ),
    DemoComment(
        "hamza",
        "Hamza Qureshi",
        118.0,
        "Five days without a major incident. Those who said it would not last a night "
        "were wrong, and a little humility in this thread would be welcome.",
        "divisive",
    ),
    DemoComment(
        "leena-again",
        "Leena M.",
        120.0,
        "Five days is not a peace. Ask me again in six months.",
        "divisive",
        reply_to="hamza",
    ),
    DemoComment(
        "rohan",
        "Rohan Kapoor",
        124.0,
        "Five days is something, and six months is the right test. Shall we all come back "
        "to this page then and see who was right?",
        "bridge",
        reply_to="leena-again",
    ),
    DemoComment("links", "Lakshmi Venkatesh", 130.0, _HELD_LINKS, held=True),
    DemoComment(
        "rahul-again",
        "Rahul S.",
        136.0,
        "Almost a week on, and it is quiet where my family lives near the border. I'll "
        "take that, and I hope the doubters are glad to be wrong.",
        "divisive",
    ),
)


@dataclass(frozen=True)
class ConversationReport:
    readers: int
    votes: int
    moved_votes: int
    comments: int
    held_comments: int
    reactions: int


def reader_email(number: int) -> str:
    return f"reader{number:02d}@{EMAIL_DOMAIN}"


def load_conversation(article: Article, now: datetime) -> ConversationReport:
    """Write the conversation on ``article`` (just created, published ``AGE`` before
    ``now``, with its poll). Flushes; the caller commits."""
    poll = article.poll
    assert poll is not None and article.published_at is not None
    draw = random.Random(SEED)  # nosec B311 (a fixed seed: the same demo on every install, no secret)
    start = article.published_at
    at = _Clock(start, now)
    readers = _create_readers(draw, at)
    option_ids = [option.id for option in poll.options]
    votes, moved = _write_votes(poll, option_ids, readers, draw, at)
    posted = _write_comments(article, readers, at)
    reactions = _write_reactions(posted, readers, draw, at)
    THREADS.changed()
    return ConversationReport(
        readers=len(readers),
        votes=votes,
        moved_votes=moved,
        comments=len(posted),
        held_comments=sum(1 for spec, _ in posted.values() if spec.held),
        reactions=reactions,
    )


class _Clock:
    """Hours after publication as times, never later than a few minutes before now."""

    def __init__(self, start: datetime, now: datetime) -> None:
        self.start = start
        self.latest = now - timedelta(minutes=5)

    def __call__(self, hour: float) -> datetime:
        return min(self.start + timedelta(hours=hour), self.latest)


@dataclass
class _Reader:
    spec: DemoReader
    user: User
    # When they first voted (hours after publication).
    vote_hour: float


def _first_comment_hours() -> dict[str, float]:
    first: dict[str, float] = {}
    for spec in COMMENTS:
        first.setdefault(spec.author, spec.hour)
    return first


def _create_readers(draw: random.Random, at: _Clock) -> dict[str, _Reader]:
    """The demo's reader accounts, each with the hour of their first vote: before their
    first comment for those who write, spread over the days (more of them early) for
    the rest."""
    first_comment = _first_comment_hours()
    readers: dict[str, _Reader] = {}
    for number, spec in enumerate(READERS, start=1):
        checked = names.check_display_name(spec.name, Role.READER)
        if spec.first_answer is not None:
            vote_hour = spec.first_hour
        elif spec.name in first_comment:
            vote_hour = max(0.05, first_comment[spec.name] - draw.uniform(0.1, 1.5))
        else:
            vote_hour = _skewed_hour(draw)
        user = User(
            email=reader_email(number),
            display_name=checked.display_name,
            name_skeleton=checked.name_skeleton,
            password_hash=UNUSABLE_PASSWORD,
            role=Role.READER.value,
            # Most joined long before the article; a few came for it.
            created_at=at(vote_hour - draw.choice((0.02, 30 * 24, 200 * 24, 700 * 24))),
        )
        db.session.add(user)
        readers[spec.name] = _Reader(spec, user, vote_hour)
    db.session.flush()
    return readers


def _skewed_hour(draw: random.Random) -> float:
    """An hour after publication, most of them in the first two days, as readers come."""
    return 0.1 + (LAST_HOUR - 0.1) * draw.random() ** 2.2


def _anonymous_answer(draw: random.Random, hour: float) -> int:
    late = hour / LAST_HOUR
    shares = [
        first + (last - first) * late
        for first, last in zip(FIRST_DAY_SHARES, LAST_DAY_SHARES, strict=True)
    ]
    return draw.choices(range(len(shares)), weights=shares)[0]


def _later_answer(draw: random.Random, answer: int) -> int:
    """Where an anonymous voter who changed their mind went: mostly toward doubt."""
    moves = {
        HOLDS: (FOR_NOW, FOR_NOW, TOO_EARLY),
        FOR_NOW: (BREAKS, TOO_EARLY),
        BREAKS: (TOO_EARLY, FOR_NOW),
        TOO_EARLY: (FOR_NOW, BREAKS, HOLDS),
    }
    return draw.choice(moves[answer])


def _write_votes(
    poll: Poll,
    option_ids: Sequence[int],
    readers: dict[str, _Reader],
    draw: random.Random,
    at: _Clock,
) -> tuple[int, int]:
    """Every vote as a row, as first cast (at its time), then the moves in the order
    they happened, each an UPDATE of its row with the later ``updated_at``: what
    ``polls.cast_vote`` writes, so the tally triggers count each vote on its day and the
    vote history sees each move."""
    rows: list[dict[str, Any]] = []
    moves: list[tuple[float, str, int]] = []  # (hour, voter key, new answer)
    for reader in readers.values():
        spec = reader.spec
        key = f"u:{reader.user.id}"
        first = spec.answer if spec.first_answer is None else spec.first_answer
        rows.append(_vote_row(poll, option_ids[first], key, reader.user.id, at(reader.vote_hour)))
        if spec.first_answer is not None:
            moves.append((spec.moved_hour, key, spec.answer))
    anonymous: list[tuple[float, str, int]] = []
    for _ in range(ANONYMOUS_VOTES):
        hour = _skewed_hour(draw)
        key = f"a:demo-{draw.getrandbits(64):016x}"
        answer = _anonymous_answer(draw, hour)
        anonymous.append((hour, key, answer))
        rows.append(_vote_row(poll, option_ids[answer], key, None, at(hour)))
    for hour, key, answer in draw.sample(anonymous, ANONYMOUS_MOVES):
        later = min(LAST_HOUR, hour + draw.uniform(6, 60))
        moves.append((later, key, _later_answer(draw, answer)))
    # In time order, as they came, so ids grow with time as the app's do.
    rows.sort(key=lambda row: row["created_at"])
    db.session.execute(insert(Vote), rows)
    for hour, key, answer in sorted(moves):
        moment = at(hour)
        db.session.execute(
            update(Vote)
            .where(Vote.poll_id == poll.id, Vote.voter_key == key)
            .values(option_id=option_ids[answer], updated_at=moment)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(poll)
    return len(rows), len(moves)


def _vote_row(
    poll: Poll, option_id: int, key: str, user_id: int | None, moment: datetime
) -> dict[str, Any]:
    return {
        "poll_id": poll.id,
        "option_id": option_id,
        "voter_key": key,
        "user_id": user_id,
        "created_at": moment,
        "updated_at": moment,
    }


def _write_comments(
    article: Article, readers: dict[str, _Reader], at: _Clock
) -> dict[str, tuple[DemoComment, Comment]]:
    """Each comment through the posting service, in the order they were written (so ids
    grow with time, as the thread's oldest-first order assumes).

    The moderation rules assess each one as usual; whatever a site's settings say (a
    hold for new authors, say), the demo's comments are shown as the demo means them:
    published, but for the one it holds to show the moderators' queue. That one is held
    by the ordinary rule, too many links, under the default settings."""
    posted: dict[str, tuple[DemoComment, Comment]] = {}
    for spec in sorted(COMMENTS, key=lambda comment: comment.hour):
        author = readers[spec.author].user
        parent = posted[spec.reply_to][1].id if spec.reply_to is not None else None
        comment = comments.prepare(article, author, spec.body, parent, at(spec.hour))
        if spec.held:
            comment.status = CommentStatus.PENDING.value
            comment.reasons_held = comment.reasons_held or ["held for review"]
        else:
            comment.status = CommentStatus.PUBLISHED.value
            comment.reasons_held = []
        posted[spec.key] = (spec, comments.store(comment))
    return posted


def _write_reactions(
    posted: dict[str, tuple[DemoComment, Comment]],
    readers: dict[str, _Reader],
    draw: random.Random,
    at: _Clock,
) -> int:
    """Each reader's up and down votes on the published comments, drawn from each
    comment's reception; then each comment's score, the sum of its reactions (what
    ``comments.react`` keeps)."""
    rows: list[dict[str, Any]] = []
    scores: dict[int, int] = {}
    for spec, comment in posted.values():
        if spec.held:
            continue
        author_answer = readers[spec.author].spec.answer
        for reader in readers.values():
            if reader.spec.name == spec.author:
                continue
            react, up = _chances(spec.reception, author_answer, reader.spec.answer)
            if draw.random() >= react:
                continue
            value = 1 if draw.random() < up else -1
            hour = spec.hour + draw.expovariate(1 / 10)
            rows.append(
                {
                    "comment_id": comment.id,
                    "user_id": reader.user.id,
                    "value": value,
                    "created_at": at(min(hour, LAST_HOUR)),
                }
            )
            scores[comment.id] = scores.get(comment.id, 0) + value
    rows.sort(key=lambda row: row["created_at"])
    if rows:
        db.session.execute(insert(CommentReaction), rows)
    score_rows = [{"b_id": comment_id, "b_score": score} for comment_id, score in scores.items()]
    if score_rows:
        db.session.execute(
            update(Comment.__table__)
            .where(Comment.__table__.c.id == bindparam("b_id"))
            .values(score=bindparam("b_score")),
            score_rows,
        )
    for _, comment in posted.values():
        db.session.expire(comment, ["score"])
    return len(rows)
