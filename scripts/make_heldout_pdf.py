"""Generate the held-out PDF article, data/heldout/articles/kestrel-lisbury-plant-2023.pdf.

The source text lives in this script. Run it with any Python that has reportlab:

    python3 -m venv /tmp/rl && /tmp/rl/bin/pip install reportlab
    /tmp/rl/bin/python scripts/make_heldout_pdf.py

The PDF is frozen with the held-out set (see data/heldout/README.md): regenerating it with
another reportlab version may change its bytes, so do not commit a regenerated copy
without updating the checksums there and re-checking the evidence strings
(scripts/check_questions.py). Page 2 starts with an explicit page break, so the facts
after it are only on the second page.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

OUT = (
    Path(__file__).resolve().parent.parent / "data/heldout/articles/kestrel-lisbury-plant-2023.pdf"
)
TITLE = "Kestrel Cell Recovery - Lisbury Plant: 2023 Operations Summary"

# ("h", text) is a heading, ("p", text) a paragraph, ("pagebreak", "") a page break.
CONTENT = [
    ("h", TITLE),
    (
        "p",
        "Issued by Kestrel Cell Recovery Ltd, Corporate Communications. Dunmore Industrial "
        "Estate, Lisbury.",
    ),
    ("h2", "1. The plant"),
    (
        "p",
        "Kestrel Cell Recovery's Lisbury plant takes in lithium-ion batteries at the end of "
        "their life and turns them back into metals that cell makers can use again. The plant "
        "stands on a 7.5-hectare site at the Dunmore Industrial Estate on the northern side of "
        "Lisbury. It was opened on 12 May 2022 by the company's chief executive, Aurelia Brandt, "
        "after a construction period of 22 months.",
    ),
    (
        "p",
        "The total investment in the plant was EUR 94 million. Of this, EUR 22 million came as a "
        "low-interest loan from the Northern Green Investment Bank; the rest was equity raised "
        "from Kestrel's shareholders.",
    ),
    (
        "p",
        "The plant holds an environmental permit to process up to 18,000 tonnes of batteries "
        "per year.",
    ),
    ("h2", "2. Throughput in 2023"),
    (
        "p",
        "In 2023, its first full calendar year of operation, the plant processed 11,450 tonnes "
        "of batteries, which is 64% of its permitted capacity. In 2022, between the opening in "
        "May and the end of December, it processed 4,310 tonnes.",
    ),
    (
        "p",
        "By weight, 58% of the batteries received in 2023 were packs from electric vehicles, "
        "27% was production scrap from cell factories and 15% were batteries from portable "
        "electronics such as laptops, phones and power tools. The largest single supplier of "
        "vehicle packs is Orrin Motors, under a five-year contract signed in 2022.",
    ),
    ("h2", "3. How the process works"),
    (
        "p",
        "Batteries are first fully discharged and then shredded in a sealed line filled with "
        "nitrogen, which prevents fires. The shredded material is separated into plastics, "
        "copper and aluminium foils, and a fine powder known as black mass, which contains the "
        "valuable metals. The black mass is then refined in a hydrometallurgical process, in "
        "which the metals are dissolved in acid and recovered one by one as salts.",
    ),
    (
        "p",
        "Chief Operating Officer Raymond Achterberg described 2023 as a year of learning to run "
        "the line steadily: the shredder was available for 87% of scheduled hours, up from 71% "
        "in the second half of 2022.",
    ),
    ("pagebreak", ""),
    ("h2", "4. Recovery rates"),
    (
        "p",
        "The recovery rate is the share of each metal in the incoming batteries that leaves the "
        "plant in a saleable product. The rates achieved in 2023 were: lithium 82%, cobalt 96%, "
        "nickel 95%, copper 91% and aluminium 88%.",
    ),
    (
        "p",
        "The plant produced 4,980 tonnes of black mass in 2023. Of this, 3,100 tonnes were refined "
        "on site and the remainder was sold to a refinery abroad.",
    ),
    ("h2", "5. People and safety"),
    (
        "p",
        "At the end of 2023 the plant employed 134 people, plus 21 apprentices trained together "
        "with Lisbury Technical College.",
    ),
    (
        "p",
        "There was one lost-time injury during the year, a hand injury in the dismantling area "
        "in March. Separately, on 7 September 2023 a damaged battery "
        "pack caught fire in a storage bay. The automatic sprinkler system put out the fire in "
        "under four minutes and nobody was hurt.",
    ),
    ("h2", "6. Water and energy"),
    (
        "p",
        "The plant drew 61,000 cubic metres of water from Lisbury Water in 2023 and recycled "
        "70% of its process water internally. It used 38 gigawatt-hours of electricity, "
        "all bought under a renewable power contract.",
    ),
    (
        "p",
        "Transport accounts for a large part of the plant's footprint. Incoming batteries "
        "arrived on 2,870 truck deliveries in 2023, an average of about 55 a week. Since "
        "October 2023 a rail siding shared with the neighbouring timber yard has taken part of "
        "the outgoing black mass by train.",
    ),
    ("h2", "7. Outlook"),
    (
        "p",
        "Dr. Viktor Salo, head of process engineering, leads the design of a second refining "
        "line that would raise permitted capacity to 30,000 tonnes per year by 2026. The "
        "company expects to take a final investment decision on it in the third quarter of "
        "2024.",
    ),
    (
        "p",
        "Aurelia Brandt said the company would keep the Lisbury plant as its only site until "
        'the second line runs at full rate. "We would rather fill one plant than half-fill '
        'two," she said.',
    ),
]


def render_pdf(content: list[tuple[str, str]], out: Path, title: str, author: str) -> Path:
    """``content`` as an A4 PDF: ("h", title), ("h2", heading), ("p", text), ("pagebreak", "").
    Byte-for-byte reproducible (``invariant=1``). Also used by make_dev2_pdf.py."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle(
        "body", parent=styles["BodyText"], alignment=TA_LEFT, fontSize=11, leading=15, spaceAfter=8
    )
    h1 = ParagraphStyle("h1", parent=styles["Heading1"], alignment=TA_LEFT, fontSize=16)
    h2 = ParagraphStyle("h2", parent=styles["Heading2"], alignment=TA_LEFT, fontSize=13)
    story = []
    for kind, text in content:
        if kind == "pagebreak":
            story.append(PageBreak())
        elif kind == "h":
            story += [Paragraph(text, h1), Spacer(1, 0.3 * cm)]
        elif kind == "h2":
            story.append(Paragraph(text, h2))
        else:
            story.append(Paragraph(text, body))
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        title=title,
        author=author,
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.5 * cm,
        bottomMargin=2.5 * cm,
        invariant=1,
    )
    doc.build(story)
    return out


def build(out: Path = OUT) -> Path:
    return render_pdf(CONTENT, out, TITLE, "Kestrel Cell Recovery Ltd")


if __name__ == "__main__":
    print(build())
