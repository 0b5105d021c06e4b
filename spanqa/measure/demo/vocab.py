"""Vocabulary of the synthetic demo notes: drugs, problems, tests and their surface variants.

Everything here was written for spanqa; none of it comes from a real record.
Drug doses and indications are textbook-typical so that a clinician reading a
note finds it plausible, not so that it is medical advice.

Shapes:

- :data:`DRUGS`: generic name -> :class:`DrugSpec`.
- :data:`CHRONIC`: chronic condition key -> :class:`Condition` (surface names, drugs).
- :data:`ACUTE`: admission reason key -> :class:`Admission` (names, symptoms, findings, tests, drugs).
- :data:`LABS`: lab key -> :class:`Lab` (surface names, units, ranges).

``weight`` fields make the vocabulary Zipf-like: a few drugs and problems are
common, a long tail is rare, so held-out folds meet words that training never saw.

Why ~560 lines: it is data (word lists and surface variants), not logic.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- routes, forms, frequencies

#: administration kind -> surface variants of the Route (first = most common).
ROUTES: dict[str, tuple[str, ...]] = {
    "oral": ("PO", "PO", "PO", "by mouth", "orally"),
    "iv": ("IV", "IV", "IV", "intravenously"),
    "sc": ("SC", "subcutaneously", "subQ", "SQ"),
    "inhaled": ("inhaled", "inhaled", "via inhalation"),
    "neb": ("nebulized", "via nebulizer"),
    "sl": ("SL", "sublingually"),
    "topical": ("topically", "transdermally"),
}

#: administration kind -> default Form surface variants ("" = usually not written).
FORMS: dict[str, tuple[str, ...]] = {
    "oral": ("tablet", "tablet", "tab"),
    "iv": (),
    "sc": ("injection", "pen"),
    "inhaled": ("inhaler", "inhaler", "MDI"),
    "neb": ("nebulizer solution",),
    "sl": ("tablet",),
    "topical": ("patch",),
}

#: normalised frequency -> surface variants.  No variant ends in an upper-case
#: letter after a digit ("Q12H"): spaCy keeps "Q12H." whole at a sentence end.
FREQUENCIES: dict[str, tuple[str, ...]] = {
    "daily": ("daily", "daily", "once daily", "QD", "every day", "qday"),
    "bid": ("BID", "BID", "twice daily", "twice a day", "bid"),
    "tid": ("TID", "three times daily", "tid"),
    "qid": ("QID", "four times daily"),
    "qhs": ("at bedtime", "qHS", "nightly", "QHS"),
    "qam": ("every morning", "qAM", "in the morning"),
    "q4h": ("q4h", "every 4 hours"),
    "q6h": ("q6h", "every 6 hours", "q6 hours"),
    "q8h": ("q8h", "every 8 hours", "q8 hours"),
    "q12h": ("q12h", "every 12 hours", "q12 hours"),
    "q24h": ("q24h", "every 24 hours"),
    "weekly": ("weekly", "once weekly", "every week"),
    "tidac": ("TID with meals", "three times daily with meals", "with meals"),
    "q4h_prn": ("q4h prn", "q4h PRN", "every 4 hours as needed", "q4h as needed"),
    "q6h_prn": ("q6h prn", "q6h PRN", "every 6 hours as needed", "q6h as needed"),
    "q8h_prn": ("q8h prn", "every 8 hours as needed", "Q8H PRN"),
    "qhs_prn": ("at bedtime as needed", "qHS prn", "nightly prn"),
    "q5min_prn": ("q5min prn", "every 5 minutes as needed"),
    "prn": ("prn", "PRN", "as needed"),
}


# --------------------------------------------------------------------------- drugs


@dataclass(frozen=True)
class DrugSpec:
    """One drug: names, typical strengths, how it is given and how often.

    ``strengths`` are (amount, unit) pairs; ``forms`` overrides the kind's default
    Form; ``reasons`` are Problems written after prn orders ("for pain").
    """

    name: str
    strengths: tuple[tuple[str, str], ...]
    kind: str
    freqs: tuple[str, ...]
    brands: tuple[str, ...] = ()
    forms: tuple[str, ...] | None = None
    reasons: tuple[str, ...] = ()
    dosage: tuple[str, ...] = ()  # unannotated dose amounts such as "2 puffs"
    weight: float = 1.0


def _d(name, strengths, kind, freqs, **kw) -> tuple[str, DrugSpec]:
    pairs = tuple(tuple(s.split(" ", 1)) for s in strengths)
    return name, DrugSpec(name, pairs, kind, tuple(freqs.split()), **kw)  # type: ignore[arg-type]


DRUGS: dict[str, DrugSpec] = dict([
    # cardiovascular
    _d("aspirin", ["81 mg", "81 mg", "325 mg"], "oral", "daily", weight=6, forms=("tablet", "chewable tablet", "EC tablet")),
    _d("atorvastatin", ["40 mg", "80 mg", "20 mg"], "oral", "daily qhs", brands=("Lipitor",), weight=5),
    _d("simvastatin", ["20 mg", "40 mg"], "oral", "qhs", brands=("Zocor",), weight=1.5),
    _d("rosuvastatin", ["10 mg", "20 mg"], "oral", "daily", brands=("Crestor",), weight=1),
    _d("pravastatin", ["40 mg"], "oral", "qhs", weight=0.4),
    _d("lisinopril", ["10 mg", "20 mg", "40 mg", "5 mg"], "oral", "daily", brands=("Zestril",), weight=5),
    _d("losartan", ["50 mg", "100 mg", "25 mg"], "oral", "daily", brands=("Cozaar",), weight=3),
    _d("amlodipine", ["5 mg", "10 mg"], "oral", "daily", brands=("Norvasc",), weight=4),
    _d("hydrochlorothiazide", ["25 mg", "12.5 mg"], "oral", "daily", weight=2),
    _d("chlorthalidone", ["25 mg"], "oral", "daily", weight=0.5),
    _d("metoprolol succinate", ["25 mg", "50 mg", "100 mg"], "oral", "daily", brands=("Toprol XL",),
       forms=("ER tablet", "tablet"), weight=3),
    _d("metoprolol tartrate", ["25 mg", "12.5 mg", "50 mg"], "oral", "bid", weight=3),
    _d("carvedilol", ["6.25 mg", "12.5 mg", "25 mg", "3.125 mg"], "oral", "bid", brands=("Coreg",), weight=2.5),
    _d("furosemide", ["40 mg", "20 mg", "80 mg"], "oral", "daily bid", brands=("Lasix",), weight=4),
    _d("torsemide", ["20 mg", "10 mg"], "oral", "daily", weight=0.6),
    _d("spironolactone", ["25 mg", "12.5 mg"], "oral", "daily", brands=("Aldactone",), weight=1.5),
    _d("sacubitril-valsartan", ["24/26 mg", "49/51 mg"], "oral", "bid", brands=("Entresto",), weight=0.8),
    _d("hydralazine", ["25 mg", "50 mg"], "oral", "tid", weight=0.6),
    _d("isosorbide mononitrate", ["30 mg", "60 mg"], "oral", "daily", forms=("ER tablet",), weight=0.6),
    _d("diltiazem", ["120 mg", "180 mg", "240 mg"], "oral", "daily", brands=("Cardizem",),
       forms=("ER capsule", "capsule"), weight=1.2),
    _d("digoxin", ["0.125 mg", "125 mcg"], "oral", "daily", weight=0.4),
    _d("clopidogrel", ["75 mg"], "oral", "daily", brands=("Plavix",), weight=2),
    _d("ticagrelor", ["90 mg"], "oral", "bid", brands=("Brilinta",), weight=0.5),
    _d("apixaban", ["5 mg", "2.5 mg"], "oral", "bid", brands=("Eliquis",), weight=2.5),
    _d("rivaroxaban", ["20 mg", "15 mg"], "oral", "daily", brands=("Xarelto",), weight=1),
    _d("warfarin", ["5 mg", "2.5 mg", "7.5 mg", "3 mg"], "oral", "daily qhs", brands=("Coumadin",), weight=1.5),
    _d("nitroglycerin", ["0.4 mg"], "sl", "q5min_prn", reasons=("chest pain",), weight=1),
    _d("amiodarone", ["200 mg"], "oral", "daily", weight=0.4),
    # endocrine
    _d("metformin", ["500 mg", "1000 mg", "850 mg"], "oral", "bid daily", brands=("Glucophage",), weight=5),
    _d("glipizide", ["5 mg", "10 mg", "2.5 mg"], "oral", "daily bid", weight=1.5),
    _d("insulin glargine", ["20 units", "10 units", "30 units", "24 units", "16 units"], "sc", "qhs daily",
       brands=("Lantus",), weight=3),
    _d("insulin lispro", ["4 units", "6 units", "8 units"], "sc", "tidac", brands=("Humalog",), weight=1.5),
    _d("sitagliptin", ["100 mg", "50 mg"], "oral", "daily", brands=("Januvia",), weight=1),
    _d("empagliflozin", ["10 mg", "25 mg"], "oral", "daily", brands=("Jardiance",), weight=1),
    _d("dapagliflozin", ["10 mg"], "oral", "daily", brands=("Farxiga",), weight=0.5),
    _d("semaglutide", ["0.5 mg", "1 mg"], "sc", "weekly", brands=("Ozempic",), weight=0.6),
    _d("levothyroxine", ["75 mcg", "50 mcg", "100 mcg", "88 mcg", "112 mcg"], "oral", "daily qam",
       brands=("Synthroid",), weight=3),
    _d("prednisone", ["40 mg", "20 mg", "10 mg", "5 mg"], "oral", "daily", weight=1.5),
    # pulmonary
    _d("albuterol", ["90 mcg"], "inhaled", "q4h_prn q6h_prn", brands=("ProAir",), reasons=("wheezing", "shortness of breath"),
       dosage=("2 puffs", "1-2 puffs"), weight=3),
    _d("tiotropium", ["18 mcg", "2.5 mcg"], "inhaled", "daily", brands=("Spiriva",), forms=("inhaler", "HandiHaler"),
       dosage=("1 capsule", "2 puffs"), weight=1),
    _d("fluticasone-salmeterol", ["250/50 mcg", "500/50 mcg"], "inhaled", "bid", brands=("Advair",),
       forms=("Diskus", "inhaler"), dosage=("1 puff",), weight=1),
    _d("budesonide-formoterol", ["160/4.5 mcg"], "inhaled", "bid", brands=("Symbicort",), dosage=("2 puffs",), weight=0.5),
    _d("ipratropium-albuterol", ["0.5/2.5 mg", "3 mL"], "neb", "q6h q4h_prn", brands=("DuoNeb",), weight=1.2),
    _d("montelukast", ["10 mg"], "oral", "qhs", brands=("Singulair",), weight=0.7),
    # GI
    _d("omeprazole", ["20 mg", "40 mg"], "oral", "daily", brands=("Prilosec",), forms=("capsule", "DR capsule"), weight=3),
    _d("pantoprazole", ["40 mg"], "oral", "daily bid", brands=("Protonix",), forms=("DR tablet", "tablet"), weight=3),
    _d("famotidine", ["20 mg", "40 mg"], "oral", "bid daily", brands=("Pepcid",), weight=1),
    _d("ondansetron", ["4 mg"], "oral", "q8h_prn q6h_prn", brands=("Zofran",), forms=("ODT", "tablet"),
       reasons=("nausea", "nausea or vomiting"), weight=1.5),
    _d("docusate", ["100 mg"], "oral", "bid", forms=("capsule",), weight=1),
    _d("senna", ["8.6 mg", "17.2 mg"], "oral", "qhs qhs_prn", forms=("tablet",), reasons=("constipation",), weight=1),
    _d("polyethylene glycol", ["17 g"], "oral", "daily prn", forms=("powder", "packet"), reasons=("constipation",), weight=1),
    _d("lactulose", ["20 g", "30 mL"], "oral", "bid tid", forms=("solution", "oral solution"), weight=0.4),
    # renal / metabolic
    _d("allopurinol", ["100 mg", "300 mg"], "oral", "daily", brands=("Zyloprim",), weight=1),
    _d("colchicine", ["0.6 mg"], "oral", "daily bid", weight=0.6),
    _d("sevelamer", ["800 mg"], "oral", "tidac", brands=("Renvela",), weight=0.5),
    _d("calcitriol", ["0.25 mcg"], "oral", "daily", forms=("capsule",), weight=0.4),
    _d("sodium bicarbonate", ["650 mg"], "oral", "bid tid", weight=0.4),
    _d("ferrous sulfate", ["325 mg"], "oral", "daily bid", weight=1.5),
    _d("cyanocobalamin", ["1000 mcg"], "oral", "daily", weight=0.5),
    _d("vitamin D3", ["1000 units", "2000 units"], "oral", "daily", forms=("capsule", "tablet"), weight=0.8),
    _d("potassium chloride", ["20 mEq", "40 mEq"], "oral", "daily bid", forms=("ER tablet",), weight=1),
    _d("tamsulosin", ["0.4 mg"], "oral", "qhs daily", brands=("Flomax",), forms=("capsule",), weight=1),
    _d("finasteride", ["5 mg"], "oral", "daily", weight=0.4),
    # neuro / psych / pain
    _d("sertraline", ["50 mg", "100 mg"], "oral", "daily", brands=("Zoloft",), weight=1.5),
    _d("citalopram", ["20 mg", "10 mg"], "oral", "daily", brands=("Celexa",), weight=1),
    _d("escitalopram", ["10 mg", "20 mg"], "oral", "daily", brands=("Lexapro",), weight=1),
    _d("bupropion", ["150 mg"], "oral", "daily", forms=("XL tablet",), weight=0.5),
    _d("trazodone", ["50 mg", "100 mg"], "oral", "qhs_prn qhs", reasons=("insomnia", "sleep"), weight=1),
    _d("gabapentin", ["300 mg", "100 mg", "600 mg"], "oral", "tid qhs", brands=("Neurontin",), forms=("capsule",), weight=2),
    _d("duloxetine", ["30 mg", "60 mg"], "oral", "daily", forms=("DR capsule", "capsule"), weight=0.5),
    _d("acetaminophen", ["650 mg", "500 mg", "1000 mg"], "oral", "q6h_prn q8h_prn", brands=("Tylenol",),
       reasons=("pain", "fever", "pain or fever", "headache"), weight=4),
    _d("oxycodone", ["5 mg"], "oral", "q4h_prn q6h_prn", reasons=("severe pain", "pain"), weight=0.8),
    _d("tramadol", ["50 mg"], "oral", "q6h_prn", reasons=("pain",), weight=0.5),
    _d("meloxicam", ["7.5 mg", "15 mg"], "oral", "daily", weight=0.5),
    _d("lidocaine", ["5 %", "4 %"], "topical", "daily", forms=("patch",), reasons=("back pain",), weight=0.6),
    _d("donepezil", ["10 mg", "5 mg"], "oral", "qhs", brands=("Aricept",), weight=0.4),
    _d("levetiracetam", ["500 mg", "750 mg"], "oral", "bid", brands=("Keppra",), weight=0.5),
    _d("quetiapine", ["25 mg", "50 mg"], "oral", "qhs", brands=("Seroquel",), weight=0.4),
    _d("melatonin", ["3 mg", "5 mg"], "oral", "qhs", weight=0.6),
    # inpatient / anti-infective
    _d("ceftriaxone", ["1 g", "2 g"], "iv", "q24h daily", weight=3),
    _d("azithromycin", ["500 mg", "250 mg"], "iv", "daily q24h", brands=("Zithromax",), weight=2),
    _d("doxycycline", ["100 mg"], "oral", "bid q12h", forms=("capsule", "tablet"), weight=1),
    _d("levofloxacin", ["750 mg", "500 mg"], "oral", "daily q24h", weight=1),
    _d("cefpodoxime", ["200 mg"], "oral", "bid q12h", weight=0.6),
    _d("amoxicillin-clavulanate", ["875/125 mg"], "oral", "bid", brands=("Augmentin",), weight=0.8),
    _d("vancomycin", ["1250 mg", "1 g", "1500 mg"], "iv", "q12h q8h", weight=2),
    _d("piperacillin-tazobactam", ["4.5 g", "3.375 g"], "iv", "q8h q6h", brands=("Zosyn",), weight=1.2),
    _d("cefazolin", ["2 g", "1 g"], "iv", "q8h", weight=1),
    _d("cephalexin", ["500 mg"], "oral", "qid q6h", brands=("Keflex",), forms=("capsule",), weight=0.8),
    _d("nitrofurantoin", ["100 mg"], "oral", "bid", brands=("Macrobid",), forms=("capsule",), weight=0.6),
    _d("ciprofloxacin", ["500 mg", "400 mg"], "oral", "bid q12h", weight=0.8),
    _d("metronidazole", ["500 mg"], "oral", "tid q8h", brands=("Flagyl",), weight=0.5),
    _d("heparin", ["5000 units"], "sc", "q8h q12h", weight=2),
    _d("enoxaparin", ["40 mg", "1 mg/kg"], "sc", "daily q12h", brands=("Lovenox",), weight=1.5),
    _d("methylprednisolone", ["40 mg", "60 mg"], "iv", "q8h q12h", brands=("Solu-Medrol",), weight=0.6),
])

#: The IV fluid of two admissions: a bolus, written without a Frequency.
DRUGS["normal saline"] = DrugSpec("normal saline", (("1", "L"), ("500", "mL"), ("2", "L")), "iv", (), weight=0.0)

#: Home drugs that a plan holds during an acute illness ("hold metformin in the setting of AKI").
HOLD_WHEN_ACUTE: frozenset[str] = frozenset((
    "metformin", "lisinopril", "losartan", "hydrochlorothiazide", "chlorthalidone", "furosemide", "torsemide",
    "spironolactone", "sacubitril-valsartan", "apixaban", "warfarin", "rivaroxaban", "aspirin", "clopidogrel",
    "meloxicam", "empagliflozin", "dapagliflozin", "glipizide", "amlodipine", "metoprolol succinate", "carvedilol",
))

#: Drugs of one class: a patient takes at most one of each.
DRUG_CLASSES: tuple[frozenset[str], ...] = tuple(frozenset(c.split(", ")) for c in (
    "sertraline, citalopram, escitalopram",
    "atorvastatin, simvastatin, rosuvastatin, pravastatin",
    "omeprazole, pantoprazole, famotidine",
    "apixaban, warfarin, rivaroxaban",
    "lisinopril, losartan, sacubitril-valsartan",
    "metoprolol succinate, metoprolol tartrate, carvedilol",
    "clopidogrel, ticagrelor",
    "furosemide, torsemide",
    "empagliflozin, dapagliflozin",
    "fluticasone-salmeterol, budesonide-formoterol",
    "hydrochlorothiazide, chlorthalidone",
    "ceftriaxone, levofloxacin",
    "cephalexin, cefpodoxime",
))

#: Drugs named in allergy lists, with the reactions written after them.
ALLERGENS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("penicillin", ("rash", "hives", "anaphylaxis")),
    ("sulfa drugs", ("rash", "hives")),
    ("codeine", ("nausea", "vomiting", "itching")),
    ("lisinopril", ("angioedema", "cough")),
    ("amoxicillin", ("rash",)),
    ("morphine", ("itching", "nausea")),
    ("iodinated contrast", ("hives",)),
    ("atorvastatin", ("myalgias",)),
    ("cephalexin", ("rash",)),
    ("ciprofloxacin", ("tendon pain",)),
)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """A chronic problem: its surface names and the home drugs that treat it."""

    names: tuple[str, ...]
    drugs: tuple[str, ...]
    weight: float = 1.0
    sex: str | None = None  # "M"/"F" when sex-specific
    plan: tuple[str, ...] = ()  # short plan phrases without entities


CHRONIC: dict[str, Condition] = {
    "htn": Condition(("hypertension", "HTN", "HTN", "essential hypertension"),
                     ("lisinopril", "amlodipine", "losartan", "hydrochlorothiazide", "chlorthalidone", "metoprolol succinate"), 6),
    "dm2": Condition(("type 2 diabetes mellitus", "T2DM", "DM2", "type 2 diabetes", "diabetes mellitus type 2",
                      "non-insulin-dependent diabetes"),
                     ("metformin", "insulin glargine", "glipizide", "sitagliptin", "empagliflozin", "dapagliflozin",
                      "semaglutide"), 5),
    "hld": Condition(("hyperlipidemia", "HLD", "dyslipidemia", "hypercholesterolemia"),
                     ("atorvastatin", "simvastatin", "rosuvastatin", "pravastatin"), 4),
    "chf": Condition(("CHF", "congestive heart failure", "HFrEF", "heart failure with reduced ejection fraction",
                      "chronic systolic heart failure", "HFpEF"),
                     ("furosemide", "carvedilol", "spironolactone", "sacubitril-valsartan", "torsemide",
                      "metoprolol succinate", "hydralazine", "isosorbide mononitrate", "digoxin"), 3),
    "cad": Condition(("CAD", "coronary artery disease", "CAD s/p PCI", "ischemic heart disease"),
                     ("aspirin", "clopidogrel", "atorvastatin", "nitroglycerin", "ticagrelor", "metoprolol tartrate"), 3),
    "afib": Condition(("atrial fibrillation", "AFib", "paroxysmal atrial fibrillation", "AF", "a-fib"),
                      ("apixaban", "warfarin", "diltiazem", "metoprolol tartrate", "rivaroxaban", "amiodarone"), 2.5),
    "copd": Condition(("COPD", "chronic obstructive pulmonary disease", "emphysema"),
                      ("albuterol", "tiotropium", "fluticasone-salmeterol", "budesonide-formoterol"), 2),
    "asthma": Condition(("asthma", "moderate persistent asthma"), ("albuterol", "montelukast", "fluticasone-salmeterol"), 0.8),
    "gerd": Condition(("GERD", "gastroesophageal reflux disease", "acid reflux"), ("omeprazole", "pantoprazole", "famotidine"), 2),
    "hypothyroid": Condition(("hypothyroidism", "hypothyroid"), ("levothyroxine",), 1.5),
    "depression": Condition(("depression", "major depressive disorder", "MDD"),
                            ("sertraline", "citalopram", "escitalopram", "bupropion"), 1.5),
    "anxiety": Condition(("anxiety", "generalized anxiety disorder", "GAD"), ("sertraline", "escitalopram"), 0.7),
    "ckd": Condition(("CKD stage 3", "chronic kidney disease", "CKD", "CKD stage 4", "CKD 3b"),
                     ("calcitriol", "sevelamer", "sodium bicarbonate"), 1.5),
    "gout": Condition(("gout",), ("allopurinol", "colchicine"), 0.8),
    "bph": Condition(("BPH", "benign prostatic hyperplasia"), ("tamsulosin", "finasteride"), 1, sex="M"),
    "oa": Condition(("osteoarthritis", "OA of the knees", "knee osteoarthritis", "chronic low back pain"),
                    ("acetaminophen", "meloxicam", "lidocaine", "tramadol"), 1.2),
    "anemia": Condition(("iron deficiency anemia", "anemia", "chronic anemia"), ("ferrous sulfate",), 1),
    "neuropathy": Condition(("peripheral neuropathy", "diabetic neuropathy", "neuropathy"), ("gabapentin", "duloxetine"), 0.8),
    "osa": Condition(("obstructive sleep apnea", "OSA"), (), 0.8, plan=("continue CPAP at night",)),
    "insomnia": Condition(("insomnia",), ("trazodone", "melatonin"), 0.6),
    "obesity": Condition(("obesity", "morbid obesity"), (), 1, plan=("counseled on diet and exercise",)),
    "dementia": Condition(("dementia", "Alzheimer dementia", "mild cognitive impairment"), ("donepezil", "quetiapine"), 0.5),
    "seizure": Condition(("seizure disorder", "epilepsy"), ("levetiracetam",), 0.4),
    "b12": Condition(("B12 deficiency", "vitamin B12 deficiency"), ("cyanocobalamin",), 0.3),
    "vitd": Condition(("vitamin D deficiency",), ("vitamin D3",), 0.5),
    "stroke": Condition(("history of stroke", "prior CVA", "remote ischemic stroke"), ("aspirin", "clopidogrel", "atorvastatin"), 0.7),
    "cirrhosis": Condition(("cirrhosis", "alcoholic cirrhosis"), ("lactulose", "spironolactone"), 0.4),
    "hypokalemia": Condition(("chronic hypokalemia",), ("potassium chloride",), 0.3),
}


@dataclass(frozen=True)
class Admission:
    """An admission reason with what goes with it in a note."""

    names: tuple[str, ...]
    symptoms: tuple[str, ...]
    findings: tuple[tuple[str, str], ...]  # (study Test, what it showed with [Problem] parts bracketed)
    labs: tuple[str, ...]  # keys of LABS that are abnormal, "+" high / "-" low suffix
    tests: tuple[str, ...]  # Tests ordered or followed up
    inpatient: tuple[str, ...]  # drugs started in hospital
    discharge: tuple[str, ...]  # drugs at discharge (new)
    vitals: str = "normal"  # "fever", "hypertensive", "tachy", "hypoxic", "hypotensive"
    weight: float = 1.0
    monitor: tuple[str, ...] = ()  # non-entity monitoring phrases with distractor markup
    given_iv: tuple[str, ...] = ()  # oral drugs given IV during this admission
    ed_findings: int = 2  # how many of ``findings`` (the first ones) an HPI may cite from the ED


ACUTE: dict[str, Admission] = {
    "cap": Admission(
        ("community-acquired pneumonia", "CAP", "pneumonia", "right lower lobe pneumonia", "left lower lobe pneumonia"),
        ("productive cough", "fever", "chills", "shortness of breath", "pleuritic chest pain", "fatigue"),
        (("chest x-ray", "a [right lower lobe infiltrate]"), ("CXR", "[left lower lobe consolidation]"),
         ("CT chest", "[multifocal opacities]"), ("chest x-ray", "a [right lower lobe infiltrate] with a [small pleural effusion]")),
        ("wbc+", "procalcitonin+", "lactate+", "na-"),
        ("blood cultures", "sputum culture", "Legionella urine antigen", "repeat chest x-ray", "procalcitonin"),
        ("ceftriaxone", "azithromycin", "levofloxacin", "doxycycline"),
        ("cefpodoxime", "amoxicillin-clavulanate", "doxycycline", "levofloxacin"),
        "pneumonia", 3),
    "chf": Admission(
        ("acute on chronic systolic heart failure", "CHF exacerbation", "acute decompensated heart failure",
         "heart failure exacerbation"),
        ("dyspnea on exertion", "orthopnea", "bilateral lower extremity edema", "weight gain", "paroxysmal nocturnal dyspnea"),
        (("chest x-ray", "[pulmonary vascular congestion]"), ("CXR", "[bilateral pleural effusions]"),
         ("echocardiogram", "[severe LV systolic dysfunction]"), ("TTE", "[global hypokinesis]")),
        ("bnp+", "cr+", "na-", "troponin+"),
        ("echocardiogram", "BMP", "TTE", "BNP", "chest x-ray"),
        ("furosemide",),
        ("furosemide", "spironolactone", "carvedilol", "sacubitril-valsartan"),
        "hypoxic", 2.5, given_iv=("furosemide",),
        monitor=("Monitor ⟪Frequency|daily⟫ weights and strict I/Os.", "Fluid restriction to 1.5 L/day.")),
    "cellulitis": Admission(
        ("cellulitis of the left lower extremity", "left leg cellulitis", "cellulitis", "right lower extremity cellulitis"),
        ("erythema", "swelling of the left leg", "warmth", "fever", "leg pain"),
        (("lower extremity Doppler ultrasound", "no evidence of [DVT]"), ("X-ray of the foot", "no [osteomyelitis]")),
        ("wbc+", "crp+", "lactate+"),
        ("blood cultures", "CBC", "wound culture", "lower extremity Doppler"),
        ("cefazolin", "vancomycin", "ceftriaxone"),
        ("cephalexin", "doxycycline"),
        "fever", 1.5, monitor=("Elevate the leg and mark the borders of erythema.",)),
    "uti": Admission(
        ("pyelonephritis", "urinary tract infection", "UTI", "complicated UTI", "acute pyelonephritis"),
        ("dysuria", "flank pain", "fever", "urinary frequency", "nausea", "suprapubic pain"),
        (("CT abdomen and pelvis", "[right-sided pyelonephritis] without [abscess]"), ("renal ultrasound", "no [hydronephrosis]")),
        ("wbc+", "cr+", "lactate+"),
        ("urinalysis", "urine culture", "blood cultures", "UA"),
        ("ceftriaxone", "piperacillin-tazobactam", "ciprofloxacin"),
        ("ciprofloxacin", "cephalexin", "nitrofurantoin"),
        "fever", 2),
    "copd": Admission(
        ("COPD exacerbation", "acute exacerbation of COPD", "AECOPD"),
        ("wheezing", "increased sputum production", "shortness of breath", "cough", "chest tightness"),
        (("chest x-ray", "[hyperinflation] without [focal consolidation]"), ("CXR", "no acute [infiltrate]")),
        ("wbc+", "co2+"),
        ("ABG", "chest x-ray", "respiratory viral panel", "sputum culture"),
        ("ipratropium-albuterol", "methylprednisolone", "azithromycin", "prednisone"),
        ("prednisone", "azithromycin", "tiotropium"),
        "hypoxic", 1.5),
    "nstemi": Admission(
        ("NSTEMI", "non-ST elevation myocardial infarction", "acute coronary syndrome", "unstable angina"),
        ("substernal chest pain", "chest pressure", "diaphoresis", "shortness of breath", "nausea"),
        (("EKG", "[ST depressions in the lateral leads]"), ("ECG", "[T wave inversions] in the lateral leads"),
         ("cardiac catheterization", "[severe LAD stenosis]"), ("echocardiogram", "[inferior wall hypokinesis]")),
        ("troponin+", "ldl+"),
        ("serial troponins", "EKG", "lipid panel", "echocardiogram", "cardiac catheterization", "HbA1c"),
        ("heparin", "aspirin", "atorvastatin", "metoprolol tartrate", "nitroglycerin"),
        ("clopidogrel", "atorvastatin", "metoprolol succinate", "aspirin", "ticagrelor"),
        "hypertensive", 2),
    "aki": Admission(
        ("acute kidney injury", "AKI", "AKI on CKD", "prerenal azotemia"),
        ("poor oral intake", "lightheadedness", "decreased urine output", "vomiting", "diarrhea"),
        (("renal ultrasound", "no [hydronephrosis]"), ("bladder scan", "[urinary retention]")),
        ("cr+", "bun+", "k+", "co2-"),
        ("urine electrolytes", "renal ultrasound", "BMP", "urinalysis", "FENa"),
        ("normal saline",),
        (),
        "hypotensive", 1.2),
    "gib": Admission(
        ("upper GI bleed", "GI bleed", "upper gastrointestinal bleeding", "acute blood loss anemia"),
        ("melena", "hematemesis", "lightheadedness", "fatigue", "dark stools"),
        (("EGD", "a [nonbleeding duodenal ulcer]"), ("EGD", "[erosive gastritis]"), ("EGD", "a [clean-based gastric ulcer]")),
        ("hgb-", "bun+", "inr+"),
        ("EGD", "CBC", "type and screen", "H. pylori stool antigen", "iron studies"),
        ("pantoprazole",),
        ("pantoprazole", "ferrous sulfate"),
        "tachy", 1.2, given_iv=("pantoprazole",), ed_findings=0, monitor=("Keep two large-bore IVs.", "Transfuse as needed per GI.")),
    "afib_rvr": Admission(
        ("atrial fibrillation with RVR", "AFib with rapid ventricular response", "new-onset atrial fibrillation"),
        ("palpitations", "shortness of breath", "lightheadedness", "chest discomfort"),
        (("EKG", "[atrial fibrillation] at a rate of 140"), ("TTE", "a [dilated left atrium]")),
        ("tsh-", "troponin+", "k-"),
        ("TSH", "TTE", "EKG", "telemetry", "BMP"),
        ("diltiazem", "metoprolol tartrate", "apixaban", "heparin"),
        ("apixaban", "diltiazem", "metoprolol succinate"),
        "tachy", 1.2),
    "hyperglycemia": Admission(
        ("hyperglycemia", "uncontrolled type 2 diabetes", "hyperosmolar hyperglycemic state", "DKA"),
        ("polyuria", "polydipsia", "blurred vision", "fatigue", "weight loss"),
        (),
        ("glucose+", "a1c+", "na-", "co2-"),
        ("fingerstick glucose", "HbA1c", "BMP", "urinalysis", "beta-hydroxybutyrate"),
        ("insulin glargine", "insulin lispro"),
        ("insulin glargine", "metformin", "empagliflozin"),
        "normal", 1),
    "syncope": Admission(
        ("syncope", "vasovagal syncope", "orthostatic syncope"),
        ("loss of consciousness", "lightheadedness", "a fall", "dizziness"),
        (("CT head", "no [acute intracranial process]"), ("EKG", "[sinus bradycardia]"), ("TTE", "no [structural heart disease]")),
        ("hgb-", "troponin+"),
        ("orthostatic vital signs", "telemetry", "TTE", "CT head", "carotid ultrasound"),
        ("normal saline",),
        (),
        "normal", 0.8),
}


# --------------------------------------------------------------------------- labs and vitals


@dataclass(frozen=True)
class Lab:
    """A lab test: surface names, units, a normal range and abnormal ranges."""

    names: tuple[str, ...]
    units: tuple[str, ...]
    normal: tuple[float, float]
    high: tuple[float, float] = (0.0, 0.0)
    low: tuple[float, float] = (0.0, 0.0)
    decimals: int = 0
    suffix: str = ""  # glued to the number ("%")


LABS: dict[str, Lab] = {
    "na": Lab(("Na", "sodium", "Na"), ("mmol/L", "mEq/L"), (136, 144), (146, 152), (124, 134)),
    "k": Lab(("K", "potassium", "K"), ("mmol/L", "mEq/L"), (3.6, 4.8), (5.3, 6.2), (2.8, 3.3), 1),
    "cr": Lab(("Cr", "creatinine", "Cr"), ("mg/dL",), (0.7, 1.1), (1.6, 3.4), (0.4, 0.6), 1),
    "bun": Lab(("BUN",), ("mg/dL",), (10, 20), (32, 68), (4, 7)),
    "co2": Lab(("bicarbonate", "HCO3", "CO2"), ("mmol/L", "mEq/L"), (23, 29), (31, 38), (12, 19)),
    "glucose": Lab(("glucose", "blood glucose", "BG"), ("mg/dL",), (80, 130), (280, 540), (48, 62)),
    "wbc": Lab(("WBC", "white count", "WBC"), ("K/uL",), (5.0, 9.8), (13.1, 21.4), (1.8, 3.2), 1),
    "hgb": Lab(("Hgb", "hemoglobin", "Hb"), ("g/dL",), (12.1, 14.9), (17.1, 18.2), (6.4, 8.8), 1),
    "plt": Lab(("platelets", "Plt"), ("K/uL",), (160, 340), (460, 610), (48, 110)),
    "a1c": Lab(("HbA1c", "hemoglobin A1c", "A1c", "HbA1c"), (), (5.2, 5.9), (8.2, 12.9), (4.2, 4.6), 1, suffix="%"),
    "troponin": Lab(("troponin", "troponin I", "hs-troponin"), ("ng/mL",), (0.0, 0.03), (0.08, 2.6), (0.0, 0.0), 2),
    "bnp": Lab(("BNP", "NT-proBNP"), ("pg/mL",), (20, 90), (640, 3900), (0, 0)),
    "lactate": Lab(("lactate", "lactic acid"), ("mmol/L",), (0.6, 1.8), (2.3, 4.6), (0, 0), 1),
    "procalcitonin": Lab(("procalcitonin",), ("ng/mL",), (0.02, 0.09), (0.6, 7.8), (0, 0), 2),
    "inr": Lab(("INR",), (), (0.9, 1.1), (1.6, 3.4), (0, 0), 1),
    "tsh": Lab(("TSH",), ("mIU/L",), (0.6, 3.9), (6.2, 14.8), (0.01, 0.08), 2),
    "crp": Lab(("CRP", "C-reactive protein"), ("mg/L",), (1, 8), (48, 212), (0, 0)),
    "ldl": Lab(("LDL", "LDL cholesterol"), ("mg/dL",), (60, 99), (142, 198), (0, 0)),
}


#: Admissions that imply a chronic condition (a COPD exacerbation needs COPD).
ADMISSION_NEEDS: dict[str, str] = {"copd": "copd", "chf": "chf", "hyperglycemia": "dm2"}


@dataclass(frozen=True)
class VitalRanges:
    temp_c: tuple[float, float] = (36.5, 37.4)
    sbp: tuple[int, int] = (112, 138)
    dbp: tuple[int, int] = (64, 86)
    hr: tuple[int, int] = (64, 92)
    rr: tuple[int, int] = (14, 18)
    spo2: tuple[int, int] = (95, 99)


VITALS: dict[str, VitalRanges] = {
    "normal": VitalRanges(),
    "fever": VitalRanges(temp_c=(38.2, 39.4), hr=(98, 118), rr=(16, 22), spo2=(93, 98)),
    "pneumonia": VitalRanges(temp_c=(38.2, 39.4), hr=(98, 118), rr=(20, 26), spo2=(87, 93)),
    "hypertensive": VitalRanges(sbp=(162, 196), dbp=(94, 112), hr=(78, 102)),
    "tachy": VitalRanges(hr=(112, 148), sbp=(96, 118), dbp=(54, 70)),
    "hypoxic": VitalRanges(rr=(22, 28), spo2=(86, 91), hr=(92, 110)),
    "hypotensive": VitalRanges(sbp=(84, 98), dbp=(46, 58), hr=(96, 116)),
}

#: Test names of the vital signs: key -> surface variants.
VITAL_NAMES: dict[str, tuple[str, ...]] = {
    "temp": ("Temp", "Tmax", "T", "temperature", "Temp"),
    "bp": ("BP", "BP", "blood pressure"),
    "hr": ("HR", "HR", "heart rate", "pulse"),
    "rr": ("RR", "RR", "respiratory rate"),
    "spo2": ("SpO2", "O2 sat", "SpO2", "oxygen saturation"),
}

#: Non-entity phrases that look like entities; ⟪Label|text⟫ marks the tempting part.
#: Used by the note templates; the marked part is a candidate for a *spurious* error.
SPURIOUS_LINES: tuple[str, ...] = (
    "Tolerating ⟪Route|PO⟫ intake.",
    "Ambulating with ⟪Test|physical therapy⟫.",
    "Diet: ⟪Drug|cardiac diet⟫.",
    "Diet: ⟪Drug|diabetic diet⟫.",
    "Code status: ⟪Problem|Full code⟫.",
    "Code status: ⟪Problem|DNR/DNI⟫.",
    "Seen and examined with the ⟪Test|primary team⟫.",
    "Encouraged ⟪Test|incentive spirometry⟫.",
    "Out of bed to ⟪Form|chair⟫ as tolerated.",
)

#: Follow-up lines; the marked part is a duration, not a Frequency.
FOLLOW_UP_LINES: tuple[str, ...] = (
    "Follow up with PCP in ⟪Frequency|1 week⟫.",
    "Follow up with PCP in ⟪Frequency|2 weeks⟫.",
    "Follow up in ⟪Frequency|7-10 days⟫ with primary care.",
    "PCP follow-up within ⟪Frequency|one week⟫.",
    "Return visit in ⟪Frequency|2 weeks⟫ with cardiology.",
    "Follow up in clinic in ⟪Frequency|1-2 weeks⟫.",
)

SEX_WORDS: dict[str, tuple[str, ...]] = {
    "M": ("M", "male", "man", "M"),
    "F": ("F", "female", "woman", "F"),
}

#: Words that a cut-short or over-extended boundary must not start or end on.
STOPWORDS: frozenset[str] = frozenset(
    "a an and as at by for from in into of on or the to with without was were is are his her their this that".split()
)

DURATIONS: tuple[str, ...] = ("2 days", "3 days", "4 days", "5 days", "1 week", "several days", "2 weeks", "one day")
COURSE_DAYS: tuple[str, ...] = ("5 days", "7 days", "10 days", "a 5-day course", "a 7-day course")


#: Lung exam findings by admission (markup: findings are Problems).
EXAM_LUNGS: dict[str, tuple[str, ...]] = {
    "cap": ("⟦Problem|crackles⟧ at the right base", "⟦Problem|decreased breath sounds⟧ at the left base",
            "⟦Problem|rhonchi⟧ on the right"),
    "chf": ("bibasilar ⟦Problem|crackles⟧", "⟦Problem|rales⟧ halfway up bilaterally"),
    "copd": ("diffuse expiratory ⟦Problem|wheezes⟧", "poor air movement with scattered ⟦Problem|wheezes⟧",
             "⟦Problem|prolonged expiratory phase⟧"),
}
#: Extremity exam findings by admission.
EXAM_EXT: dict[str, tuple[str, ...]] = {
    "chf": ("2+ ⟦Problem|pitting edema⟧ to the knees", "1+ bilateral ⟦Problem|lower extremity edema⟧"),
    "cellulitis": ("⟦Problem|erythema⟧ and ⟦Problem|warmth⟧ of the left shin, borders marked",
                   "⟦Problem|tender erythematous area⟧ over the right calf"),
}


__all__ = ["ACUTE", "ADMISSION_NEEDS", "ALLERGENS", "Admission", "CHRONIC", "COURSE_DAYS", "Condition", "DRUGS",
           "DRUG_CLASSES", "DURATIONS", "DrugSpec", "EXAM_EXT", "EXAM_LUNGS", "FOLLOW_UP_LINES", "FORMS",
           "FREQUENCIES", "HOLD_WHEN_ACUTE", "LABS", "Lab", "ROUTES", "SEX_WORDS", "SPURIOUS_LINES", "STOPWORDS",
           "VITALS", "VITAL_NAMES", "VitalRanges"]
