"""Generate the dev3 PDF article, data/dev3/articles/dunmarrow-bank-first-power.pdf.

The source text lives in this script. Run it with any Python that has reportlab:

    .venv/bin/python scripts/make_dev3_pdf.py

dev3 is a development (tuning) set, not frozen, but its evidence strings quote the PDF's
text as ragqa loads it (pypdf's extraction, lines joined by ``unwrap_lines``): after
regenerating the PDF (another reportlab version may change its bytes or line breaks)
re-run scripts/check_questions.py and update data/dev3/README.md. Page 2 starts with an
explicit page break, so sections 4 to 6 are only on the second page.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_heldout_pdf import render_pdf  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "data/dev3/articles/dunmarrow-bank-first-power.pdf"
TITLE = "Dunmarrow Bank Offshore Wind Farm delivers first power"

# ("h", text) is the title, ("h2", text) a heading, ("p", text) a paragraph,
# ("pagebreak", "") a page break.
CONTENT = [
    ("p", "Press release, 10 June 2025. For immediate release."),
    ("h", TITLE),
    (
        "p",
        "Issued by Dunmarrow Offshore Wind Ltd, Harbour Office, West Quay, Scarrowby. "
        "Media enquiries: Callum Oyediran-Frost, press officer.",
    ),
    ("h2", "1. First power"),
    (
        "p",
        "The Dunmarrow Bank Offshore Wind Farm, 34 km off the coast of Aldermere, sent its "
        "first electricity to the national grid at 14:20 on 2 June 2025, when turbine A07 was "
        "switched on after three weeks of testing. A further 11 turbines are expected to be "
        "generating by the end of August. When all 48 turbines are running, which the "
        "company expects by March 2026, the wind farm will have a capacity of 720 MW, enough "
        "on average for about 640,000 homes.",
    ),
    (
        "p",
        "Dunmarrow Offshore Wind Ltd is a joint venture owned 51% by Norvenna Energy and 49% "
        "by Halberd Infrastructure Partners. The total cost of the project is EUR 2.4 billion.",
    ),
    ("h2", "2. Turbines and foundations"),
    (
        "p",
        "Each of the 48 turbines, supplied by Vestrand Turbines, is rated at 15 MW, stands "
        "262 metres tall to the tip of its blades and has a rotor 236 metres across. The "
        "turbines sit on steel monopile foundations in water between 28 and 41 metres deep. "
        "The heaviest monopile weighs 1,450 tonnes. The monopiles were installed between "
        "April and November 2024 by Torvik Marine Contractors from the jack-up vessel Sea "
        "Harrow, which drove in as many as three a week in good weather.",
    ),
    ("h2", "3. Getting the power ashore"),
    (
        "p",
        "An offshore substation collects the power from the turbines through 96 km of "
        "array cables. Two export cables, each 58 km long, carry it from the substation to "
        "the landfall at Gullhaven Sands, where they were pulled ashore through tunnels "
        "drilled under the dunes so that the beach stayed open to the public. From there an "
        "underground cable runs 22 km inland to a new onshore substation at Thornby Moss, "
        "which connects the wind farm to the grid.",
    ),
    (
        "p",
        '"Seeing A07 turn for the first time was the moment eight years of work became real," '
        "said Signe Halvorsen-Blake, project director at Dunmarrow Offshore Wind. The "
        "project's development consent was granted in 2021.",
    ),
    ("pagebreak", ""),
    ("h2", "4. Operations base at Scarrowby"),
    (
        "p",
        "The wind farm will be run and maintained from a new operations base on West Quay "
        "in Scarrowby harbour, which cost GBP 31 million. Aldermere County Council paid GBP "
        "12 million to deepen the berths and strengthen the quay wall. The base will employ "
        "85 people full time, among them 42 wind turbine technicians, and three crew "
        "transfer vessels will carry technicians out to the turbines every day. Work on the "
        "base started in September 2023 and it was handed over in May 2025.",
    ),
    ("h2", "5. Community benefit fund"),
    (
        "p",
        "For each year the wind farm operates, the owners will pay GBP 750,000 into a "
        "community benefit fund, run by the Aldermere Community Foundation, for 25 years. "
        "The first round of 31 grants, worth GBP 402,000 in total, was announced in April "
        "2025. It included GBP 18,000 for a new orchestral work by Tobias Greel, to be "
        "played by the Aldermere Philharmonia, and GBP 60,000 towards a lifeboat station "
        "refit in Scarrowby.",
    ),
    (
        "p",
        "Orwen Vale Dairy has agreed to buy 42 GWh of electricity a year from the wind farm "
        "for ten years, starting when all 48 turbines are running. It is the first local "
        "business to sign a power purchase agreement with the project.",
    ),
    ("h2", "6. Wildlife"),
    (
        "p",
        "Bird radar fitted to two of the turbines will track kittiwakes and gannets flying "
        "across the site, and the company will pay for a ten-year survey of seabirds on the "
        "Aldermere coast, run by the University of Kellerby. Marcus Oduya-Lind, chief "
        "executive of Norvenna Energy, said the survey would be published in full every year.",
    ),
    ("p", "Ends."),
]


def build(out: Path = OUT) -> Path:
    return render_pdf(CONTENT, out, TITLE, "Dunmarrow Offshore Wind Ltd")


if __name__ == "__main__":
    print(build())
