"""Long messages read in pieces: an ad at character 1,120 of 1,811 is still seen, within a fixed budget."""

from __future__ import annotations

CHUNK_CHARS = 1000  # a longer message is checked in overlapping pieces of this size...
CHUNK_OVERLAP = 100  # ...overlapping so that an ad cut at a boundary is whole in one of them
MAX_CHUNKS = 24  # ...at most this many, spread over the whole text (24,000 characters read in full)


def chunks(text: str) -> list[str]:
    """Overlapping pieces of CHUNK_CHARS that cover `text`; past MAX_CHUNKS pieces, MAX_CHUNKS of them
    spread evenly from the start to the end (a fixed budget, so a verdict never depends on the machine)."""
    step = CHUNK_CHARS - CHUNK_OVERLAP
    starts = list(range(0, max(1, len(text) - CHUNK_OVERLAP), step))
    if len(starts) > MAX_CHUNKS:
        last = len(text) - CHUNK_CHARS
        starts = [round(i * last / (MAX_CHUNKS - 1)) for i in range(MAX_CHUNKS)]
    return [text[i : i + CHUNK_CHARS] for i in starts]
