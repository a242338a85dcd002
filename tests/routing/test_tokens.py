"""Token counting: exact for OpenAI families, a documented estimate otherwise."""

from tests.fakes.documents import NOTES, NOTES_DATA_URL, PDF_DATA_URL, PDF_PAGES, PDF_URL

from switchyard.routing.tokens import PER_IMAGE, PER_MESSAGE, PER_PAGE, TokenCounter, encoding_name
from switchyard.types import ChatRequest, FilePart, ImagePart, Message, TextPart


def test_openai_families_have_encodings() -> None:
    assert encoding_name("gpt-4o-mini") == "o200k_base"
    assert encoding_name("openai/gpt-4.1") == "o200k_base"
    assert encoding_name("gpt-4-turbo") == "cl100k_base"
    assert encoding_name("claude-sonnet-4-5") is None


def test_exact_count_for_openai_text() -> None:
    # o200k_base splits this sentence into 10 tokens (as tiktoken does)
    assert TokenCounter().count_text("Hello, world! How are you doing today?", "gpt-4o") == 10


def test_estimate_for_other_families_is_characters_over_four() -> None:
    assert TokenCounter().count_text("x" * 400, "claude-sonnet-4-5") == 100


def test_request_count_adds_framing_and_images() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message(role="system", content="x" * 40),
            Message(role="user", content=[TextPart(text="y" * 40), ImagePart(url="https://a/b")]),
        ],
    )
    counter = TokenCounter()
    assert counter.count(request, "some-model") == 21 + 2 * PER_MESSAGE + PER_IMAGE
    assert counter.upper_bound(request) >= counter.count(request, "some-model")


def test_a_pdf_counts_by_its_pages_and_plain_text_as_its_text() -> None:
    def count(*parts: FilePart) -> int:
        request = ChatRequest(model="m", messages=[Message(role="user", content=list(parts))])
        counter = TokenCounter()
        assert counter.upper_bound(request) >= counter.count(request, "some-model")
        return counter.count(request, "some-model") - PER_MESSAGE

    assert count(FilePart(url=PDF_DATA_URL, mime_type="application/pdf")) == PDF_PAGES * PER_PAGE
    assert count(FilePart(url=PDF_URL, mime_type="application/pdf")) == PER_PAGE  # size unknown
    notes = FilePart(url=NOTES_DATA_URL, mime_type="text/plain")
    assert count(notes) == TokenCounter().count_text(NOTES, "some-model")
