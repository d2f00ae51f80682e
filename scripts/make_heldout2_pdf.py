"""Generate the second held-out set's PDF article,
data/heldout2/articles/lower-lathe-flood-scheme-completed.pdf.

The source text lives in this script. Run it with any Python that has reportlab:

    .venv/bin/python scripts/make_heldout2_pdf.py

The PDF is frozen with the set (see data/heldout2/README.md): regenerating it with another
reportlab version may change its bytes or the line breaks of its extracted text, so do not
commit a regenerated copy without updating the checksums there and re-checking the evidence
strings (scripts/check_questions.py). It reuses ``render_pdf`` from make_heldout_pdf.py
(``invariant=1``). Page 2 starts with an explicit page break, so sections 4 to 6 are only on
the second page.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_heldout_pdf import render_pdf  # noqa: E402

OUT = (
    Path(__file__).resolve().parent.parent
    / "data/heldout2/articles/lower-lathe-flood-scheme-completed.pdf"
)
TITLE = "Lower Lathe Flood Alleviation Scheme completed"

# ("h", text) is the title, ("h2", text) a heading, ("p", text) a paragraph,
# ("pagebreak", "") a page break.
CONTENT = [
    ("p", "Completion report, 6 October 2025. Westmarch River Authority."),
    ("h", TITLE),
    (
        "p",
        "Issued by Westmarch River Authority, Riverside House, Quarrendon. "
        "Contact: Dilys Ambrose-Kerr, communications officer.",
    ),
    ("h2", "1. Why the scheme was built"),
    (
        "p",
        "On 14 February 2020 the River Lathe burst its banks in Quarrendon and Stellow after "
        "two days of heavy rain, flooding 640 homes and businesses. The river reached 5.8 "
        "metres at the Stellow Bridge gauge, the highest level since records began there in "
        "1948. The cost of repairs and insurance claims after that flood was put at GBP 52 "
        "million.",
    ),
    (
        "p",
        "The Lower Lathe Flood Alleviation Scheme now protects 2,140 homes and 310 businesses "
        "against a flood with a 1% chance of happening in any year, with an allowance for the "
        "heavier rainfall expected as the climate changes. It also protects the Lathe Meadows "
        "site in Quarrendon, where Quarrendon Rovers FC built their new stadium after the "
        "defences along that stretch of river were finished in 2023.",
    ),
    ("h2", "2. What was built"),
    (
        "p",
        "The scheme has 4.6 km of earth embankments, 1.9 km of concrete flood walls faced with "
        "local stone, and three demountable barriers that are put up across road openings when "
        "a flood is forecast. Upstream of Stellow, a flood storage area of 68 hectares at "
        "Brightcombe Marsh can hold back 2.3 million cubic metres of water and let it go "
        "slowly once the peak has passed. Two pumping stations, at Millrace Lane and Stellow "
        "Quay, can together pump 7.5 cubic metres of water per second back into the river.",
    ),
    (
        "p",
        "The scheme was designed by Ferrand Lowe Engineering and built by Morrow and Kell "
        "Construction. Construction began on 7 June 2022 and the scheme was formally completed "
        "on 19 September 2025, five months later than planned, because the embankment at "
        "Brightcombe Marsh had to be rebuilt on softer ground than expected.",
    ),
    ("h2", "3. Cost and funding"),
    (
        "p",
        "The scheme cost GBP 64 million. The national Flood Defence Grant paid GBP 41 million, "
        "the Westmarch Combined Authority GBP 15 million and Quarrendon City Council GBP 8 "
        "million. The first estimate, approved in 2021, was GBP 57 million.",
    ),
    (
        "p",
        '"The people of Stellow have waited five years to sleep easily when it rains," said '
        "Naomi Steadwell, the authority's scheme manager.",
    ),
    ("pagebreak", ""),
    ("h2", "4. A first test"),
    (
        "p",
        "The defences were tested before they were finished. During the high flows of 29 and "
        "30 January 2025 the storage area at Brightcombe Marsh held back 1.1 million cubic "
        "metres of water, and the river at the Stellow Bridge gauge peaked at 4.9 metres. No "
        "homes were flooded.",
    ),
    ("h2", "5. Wildlife and land"),
    (
        "p",
        "Brightcombe Marsh is also a nature reserve. Of its 68 hectares, 41 hectares have been "
        "planted as reedbed and wet grassland, and the rest is open water and scrub. The "
        "reserve is managed for the authority by the Westmarch Wildlife Trust under a 25-year "
        "agreement. In September 2025 Quarrendon Zoo released water voles bred at the zoo on "
        "the marsh, the first to live there for more than 30 years.",
    ),
    (
        "p",
        "About 94,000 tonnes of soil dug out to form the storage area were reused in the "
        "embankments, so no soil left the site by road. 1,600 trees have been planted along "
        "the new defences to replace the 420 that were felled.",
    ),
    ("h2", "6. Running the scheme"),
    (
        "p",
        "The authority will run and maintain the defences at a cost of about GBP 380,000 a "
        "year. The pumping stations are checked every week, and the demountable barriers are "
        "put up in a practice exercise every October. Casimir Dunlevy, chief executive of the "
        "Westmarch River Authority, said a second phase, to protect the upstream village of "
        "Harnwick, was being studied but had no funding yet.",
    ),
    ("p", "Ends."),
]


def build(out: Path = OUT) -> Path:
    return render_pdf(CONTENT, out, TITLE, "Westmarch River Authority")


if __name__ == "__main__":
    print(build())
