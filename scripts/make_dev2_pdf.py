"""Generate the dev2 PDF article, data/dev2/articles/ternlight-pathfinder-1-in-orbit.pdf.

The source text lives in this script. Run it with any Python that has reportlab:

    .venv/bin/python scripts/make_dev2_pdf.py

dev2 is a development (tuning) set, not frozen, but its evidence strings quote the PDF's
text as pypdf extracts it (line breaks included): after regenerating the PDF (another
reportlab version may change its bytes or line breaks) re-run scripts/check_questions.py
and update data/dev2/README.md. Page 2 starts with an explicit page break, so sections 4
to 6 are only on the second page.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_heldout_pdf import render_pdf  # noqa: E402

OUT = (
    Path(__file__).resolve().parent.parent
    / "data/dev2/articles/ternlight-pathfinder-1-in-orbit.pdf"
)
TITLE = "Ternlight Orbital: Pathfinder-1 is in orbit"

# ("h", text) is the title, ("h2", text) a heading, ("p", text) a paragraph,
# ("pagebreak", "") a page break.
CONTENT = [
    ("p", "Press release, 2 April 2025"),
    ("h", TITLE),
    (
        "p",
        "Issued by Ternlight Orbital Ltd, Unit 4, Caddisford Science Park, Caddisford. "
        "Media contact: Nadia Kershaw-Bell, Head of Communications.",
    ),
    ("h2", "1. The launch"),
    (
        "p",
        "Ternlight Orbital's first satellite, Pathfinder-1, lifted off at 10:42 local time on "
        "14 March 2025 from the Kerrow Point spaceport. It flew as one of 28 small satellites "
        "on a shared mission run by Auster Launch Services, and separated from the rocket's "
        "upper stage 58 minutes after lift-off.",
    ),
    (
        "p",
        "The company's mission team followed the launch from the ground station that Ternlight "
        "shares with the University of Caddisford on the roof of the university's Hadley "
        "Building. The station picked up the satellite's first signal 3 hours and 12 minutes "
        "after separation, on the spacecraft's third pass over Brenholm. Solar panels deployed "
        "the same evening and all systems were reported healthy the following morning.",
    ),
    ("h2", "2. The satellite"),
    (
        "p",
        "Pathfinder-1 is a 6U CubeSat, roughly the size of a shoebox, with a launch mass of "
        "11.2 kg. It circles the Earth in a sun-synchronous orbit at an altitude of 525 km, "
        "which brings it over Brenholm twice a day, at about 10:30 in the morning and 22:30 "
        "in the evening, local time.",
    ),
    (
        "p",
        "Its main instrument is Kite, a six-band multispectral camera designed in-house. Kite "
        "sees the ground at a resolution of 4.8 metres across a strip 19 km wide, and one of "
        "its bands is tuned to the thermal infrared so that it can tell warm ground from cold "
        "at night. The satellite is designed to work for five years. Building, testing and "
        "launching it cost GBP 2.1 million, of which the launch itself took GBP 640,000.",
    ),
    ("h2", "3. The company"),
    (
        "p",
        "Ternlight Orbital was founded in 2021 as a spin-off from the University of "
        "Caddisford's Department of Physics by Dr Priya Venkataraman-Holt, its chief "
        "executive, and Dr Callum Ashdown, its chief technology officer. It now employs 23 "
        "people. In June 2023 the company raised GBP 6.3 million in a seed round led by "
        "Northlight Ventures. The University of Caddisford holds a 12% stake in the company.",
    ),
    (
        "p",
        '"Four years ago this was a drawing on a whiteboard in a physics lab," said Dr '
        'Venkataraman-Holt. "Now it is flying over our own county twice a day."',
    ),
    ("pagebreak", ""),
    ("h2", "4. First images"),
    (
        "p",
        "Pathfinder-1 took its first picture on 21 March 2025, a week after launch. The image "
        "shows the vineyards of Saltrigg Vale and the mouth of the River Vey, and it was chosen "
        "because the Saltrigg Vale Wine Growers' Cooperative is the company's first customer: "
        "from April the cooperative will receive night-time maps of its slopes to see where "
        "frost settles first.",
    ),
    (
        "p",
        "A second customer, Brenholm County Council, will use images taken every month to "
        "measure coastal erosion along the west coast of Inchmara, where parts of the shore "
        "road have been lost to the sea in recent winters.",
    ),
    ("h2", "5. Students"),
    (
        "p",
        "The Aldous Merriott Trust has given GBP 64,000 over two years to pay for eight summer "
        "internships a year at Ternlight for students of the University of Caddisford. This "
        "summer's interns will write software that flags cloud in Kite's images before they "
        "are sent to customers.",
    ),
    ("h2", "6. What comes next"),
    (
        "p",
        "The company is working on a second, larger satellite, Pathfinder-2, which it plans to "
        "launch in the second half of 2026. Dr Callum Ashdown said the lessons of the first "
        "mission would go straight into the new design. Until then, Pathfinder-1 will spend "
        "its first six months in a test phase in which images are given to the two pilot "
        "customers free of charge.",
    ),
    ("p", "Ends."),
]


def build(out: Path = OUT) -> Path:
    return render_pdf(CONTENT, out, TITLE, "Ternlight Orbital Ltd")


if __name__ == "__main__":
    print(build())
