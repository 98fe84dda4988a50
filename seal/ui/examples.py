"""Example prompts for the Estimate page: real content for typical tasks, each with a typical output length and where
that length comes from (public sources on text lengths, none of them about energy).

Token arithmetic used below: OpenAI, "What are tokens and how to count them?" (help.openai.com): one token is about
4 characters or 0.75 words of English text.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One typical task: ``name`` (picker label), ``prompt`` (one line), ``output_tokens`` (typical answer length)
    and ``source`` (where the length comes from)."""

    name: str
    prompt: str
    output_tokens: int
    source: str


EXAMPLES: tuple[Example, ...] = (
    Example(
        "Tweet",
        "Write a tweet announcing that our city library now lends electric-bike batteries, friendly tone, one hashtag.",
        70,
        "at most 280 characters (X's post limit, help.x.com 'Counting characters') ≈ 70 tokens at ~4 characters "
        "per token (OpenAI)"),
    Example(
        "Email",
        "Draft a short email to my team moving Thursday's project review to Friday at 10:00 because the client demo "
        "was rescheduled; ask them to update the shared slides by Thursday evening.",
        170,
        "125 words, the upper end of the 50–125-word emails that got the most replies in Boomerang's study of "
        "40 million emails (Boomerang blog, 2016) ≈ 170 tokens at ~0.75 words per token (OpenAI)"),
    Example(
        "Chat answer",
        "Why is the sky blue, and why are sunsets red? Explain it simply for a curious teenager.",
        215,
        "mean response length in LMSYS-Chat-1M, one million real chatbot conversations: 214.5 tokens (Zheng et al. "
        "2023, arXiv:2309.11998); also SEAL's default output length"),
    Example(
        "Summary",
        "Summarise this article in three sentences: The city council voted on Tuesday to convert two downtown car "
        "lanes into protected bike lanes by next spring. Supporters cited a 40 % rise in cycling since 2020 and "
        "fewer accidents on streets that already have protected lanes. Shop owners worried about deliveries, so the "
        "plan adds loading zones on side streets and keeps one lane open for buses and emergency vehicles.",
        75,
        "CNN/DailyMail reference summaries: 3.75 sentences, 56 words on average (See et al. 2017, "
        "arXiv:1704.04368) ≈ 75 tokens at ~0.75 words per token (OpenAI)"),
    Example(
        "Report",
        "Write a one-page report for our board on last quarter's customer-support figures: tickets rose 12 %, "
        "median first response fell from 9 to 6 hours, satisfaction stayed at 4.3 of 5; recommend two next steps.",
        670,
        "one single-spaced page ≈ 500 words (the usual words-per-page rule of thumb for 12-point text) ≈ 670 tokens "
        "at ~0.75 words per token (OpenAI)"),
    Example(
        "Code",
        "Write a Python function that reads a CSV file of transactions (date, category, amount) and returns the "
        "total spent per category per month, with a docstring and one example.",
        400,
        "a 30-line function with its docstring: ~1,500 characters at PEP 8's 79-character lines, about half full "
        "(python.org PEP 8) ≈ 400 tokens at ~4 characters per token (OpenAI)"),
)
BY_NAME: dict[str, Example] = {e.name: e for e in EXAMPLES}
ALL = "All six tasks"
NONE = "(your own prompts)"
CHOICES: tuple[str, ...] = (NONE, ALL, *BY_NAME)


def chosen(name: str) -> tuple[Example, ...]:
    """The examples a picker choice stands for: all of them, one, or none."""
    if name == ALL:
        return EXAMPLES
    return (BY_NAME[name],) if name in BY_NAME else ()


def example_for(prompt: str) -> Example | None:
    """The example whose prompt is ``prompt`` (stripped), if any."""
    text = " ".join(str(prompt or "").split())
    return next((e for e in EXAMPLES if " ".join(e.prompt.split()) == text), None)
